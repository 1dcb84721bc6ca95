/**
 * Every error code Sluice can answer with, in one place. The seed's codes keep its exact messages;
 * Sluice's own codes (auth, transport, limits) use the same `ERR_*` string style.
 * HTTP status per code follows CONTRACT.md §5.
 */
export type ErrorFamily =
  | "INPUT_OUTPUT_ERROR"
  | "INTERNAL_ERROR"
  | "AUTHENTICATION_ERROR"
  | "AUTHORIZATION_ERROR"
  | "RATE_LIMIT_ERROR"
  | "UNAVAILABLE_ERROR";

export interface ErrorDefinition {
  readonly code: number | string;
  readonly status: number;
  readonly family: ErrorFamily;
  readonly message: string;
}

const io = (code: number | string, status: number, message: string): ErrorDefinition => ({
  code,
  status,
  family: "INPUT_OUTPUT_ERROR",
  message,
});
const internal = (code: number | string, message: string): ErrorDefinition => ({
  code,
  status: 500,
  family: "INTERNAL_ERROR",
  message,
});

export const ERRORS = {
  // Payload validation (CONTRACT §4). 100's message names the attribute; see `requiredAttributeMessage`.
  CONFIG_ATTRIBUTE_REQUIRED: io("ERR_THROTTLING_CONFIG_100", 400, "throttling config: <mandatory attribute> required"),
  CONFIG_MAX_THROUGHPUT: io(
    "ERR_THROTTLING_CONFIG_101",
    400,
    "throttling config: maxThroughput is required and must be greater than or equal to 200 and less than or equal to 5000",
  ),
  CONFIG_MALFORMED_URL_PATTERN: io("ERR_THROTTLING_CONFIG_104", 400, "throttling config: malformed url pattern"),
  CONFIG_WILDCARD_IN_HOST: io(
    "ERR_THROTTLING_CONFIG_105",
    400,
    "throttling config: wildcards not allowed in host part of the url pattern",
  ),
  CONFIG_INVALID_PAYLOAD: io("ERR_THROTTLING_CONFIG_106", 400, "throttling config: invalid payload"),

  // Operations (seed "Errors").
  DELETE_FORBIDDEN: io(1456, 400, "Can't delete a deployed throttling config. Undeploy it before deleting it"),
  DELETE_FAILED: internal(1457, "Can't delete throttling config: unexpected error occurs"),
  DEPLOY_FAILED: internal(1458, "Can't deploy throttling config: unexpected error occurs"),
  UNDEPLOY_FAILED: internal(1459, "Can't undeploy throttling config: unexpected error occurs"),
  GET_FAILED: internal(1460, "Can't get throttling config: unexpected error occurs"),
  UPDATE_NOT_ACTIVE: io(1461, 400, "Can't update throttling config: runtime version is not active"),
  UPDATE_FAILED: internal(1462, "Can't update throttling config: unexpected error occurs"),
  NON_PROD_SANDBOX: io(1463, 400, "Operation not allowed on throttling config: non prod sandbox"),
  CREATE_FAILED: internal(1464, "Can't create throttling config: unexpected error occurs"),
  CREATE_LIMIT: io(1465, 400, "Can't create throttling config: only one config allowed per org"),
  ALREADY_DEPLOYED: io(14466, 400, "Can't deploy throttling config: already deployed"),
  NOT_FOUND: io(14467, 404, "throttling config not found"),
  NOT_DEPLOYED: io(14468, 400, "Can't undeploy throttling config: not deployed yet"),

  // Capping API (CONTRACT §12). A payload is refused only for its structure (112, 111); every other problem is
  // stored and reported by canDeploy (src/capping/endpoint-config-issues.ts). 1451 and its message are Adobe's;
  // the other codes are Sluice's own, in Adobe's `ERR_ENDPOINTCONFIG_*` style.
  ENDPOINT_CONFIG_NOT_JSON: io("ERR_ENDPOINTCONFIG_112", 400, "capping config: can't create endpoint config: expecting a JSON payload"),
  ENDPOINT_CONFIG_INVALID_PAYLOAD: io("ERR_ENDPOINTCONFIG_111", 400, "capping config: can't create endpoint config: invalid payload"),
  ENDPOINT_CONFIG_DUPLICATE: io(
    "ERR_ENDPOINTCONFIG_DUPLICATE",
    400,
    "capping config: another endpoint config of the organization has this url and one of these methods",
  ),
  ENDPOINT_CONFIG_NOT_VALID: io(
    "ERR_ENDPOINTCONFIG_NOT_VALID",
    400,
    "capping config: can't deploy endpoint config: canDeploy reports errors",
  ),
  ENDPOINT_CONFIG_DELETE_FORBIDDEN: io(1451, 400, "Can't delete a deployed endpoint config. Undeploy it before deleting it"),
  ENDPOINT_CONFIG_NOT_FOUND: io("ERR_ENDPOINTCONFIG_NOT_FOUND", 404, "capping config: endpoint config not found"),
  ENDPOINT_CONFIG_CREATE_FAILED: internal("ERR_ENDPOINTCONFIG_CREATE_FAILED", "Can't create endpoint config: unexpected error occurs"),
  ENDPOINT_CONFIG_GET_FAILED: internal("ERR_ENDPOINTCONFIG_GET_FAILED", "Can't get endpoint config: unexpected error occurs"),
  ENDPOINT_CONFIG_UPDATE_FAILED: internal("ERR_ENDPOINTCONFIG_UPDATE_FAILED", "Can't update endpoint config: unexpected error occurs"),
  ENDPOINT_CONFIG_DEPLOY_FAILED: internal("ERR_ENDPOINTCONFIG_DEPLOY_FAILED", "Can't deploy endpoint config: unexpected error occurs"),
  ENDPOINT_CONFIG_UNDEPLOY_FAILED: internal(
    "ERR_ENDPOINTCONFIG_UNDEPLOY_FAILED",
    "Can't undeploy endpoint config: unexpected error occurs",
  ),
  ENDPOINT_CONFIG_DELETE_FAILED: internal("ERR_ENDPOINTCONFIG_DELETE_FAILED", "Can't delete endpoint config: unexpected error occurs"),

  // The seed's catch-all; also what an unknown sandbox gets (CONTRACT §2).
  INTERNAL: internal(4000, "INTERNAL ERROR"),

  // Sluice's own.
  UNAUTHORIZED: {
    code: "ERR_UNAUTHORIZED",
    status: 401,
    family: "AUTHENTICATION_ERROR",
    message: "missing or invalid credentials: send Authorization: Bearer <token> and x-api-key: <client id>",
  },
  ORG_MISMATCH: {
    code: "ERR_ORG_MISMATCH",
    status: 403,
    family: "AUTHORIZATION_ERROR",
    message: "x-gw-ims-org-id does not match the credential's organization",
  },
  SANDBOX_REQUIRED: io("ERR_SANDBOX_REQUIRED", 400, "the x-sandbox-name header is required"),
  ROUTE_NOT_FOUND: io("ERR_ROUTE_NOT_FOUND", 404, "no such route"),
  PAYLOAD_TOO_LARGE: io("ERR_PAYLOAD_TOO_LARGE", 413, "request body exceeds the 1 MB limit"),
  UNSUPPORTED_MEDIA_TYPE: io(
    "ERR_UNSUPPORTED_MEDIA_TYPE",
    415,
    "a request body must be sent with Content-Type: application/json (charset utf-8)",
  ),
  // Runtime call API (CONTRACT §6).
  CALL_INVALID: io("ERR_CALL_INVALID", 400, "runtime call: invalid request"),
  CALL_NOT_FOUND: io("ERR_CALL_NOT_FOUND", 404, "runtime call not found"),
  CALL_NOT_REPLAYABLE: io("ERR_CALL_NOT_REPLAYABLE", 409, "only a failed, expired or dropped call can be replayed"),
  IDEMPOTENCY_MISMATCH: io(
    "ERR_IDEMPOTENCY_MISMATCH",
    409,
    "this Idempotency-Key was already used for a different number of calls",
  ),
  // Sluice's own API limits (CONTRACT §7).
  RATE_LIMITED: {
    code: "ERR_RATE_LIMITED",
    status: 429,
    family: "RATE_LIMIT_ERROR",
    message: "the organization's requests per minute for this class of endpoints are used up; retry after Retry-After seconds",
  },
  AUTH_RATE_LIMITED: {
    code: "ERR_RATE_LIMITED",
    status: 429,
    family: "RATE_LIMIT_ERROR",
    message: "too many failed authentications from this address; retry after Retry-After seconds",
  },
  QUEUE_FULL: {
    code: "ERR_QUEUE_FULL",
    status: 429,
    family: "RATE_LIMIT_ERROR",
    message: "the organization's call queue is full; retry later",
  },
  DEPENDENCY_UNAVAILABLE: {
    code: "ERR_DEPENDENCY_UNAVAILABLE",
    status: 503,
    family: "UNAVAILABLE_ERROR",
    message: "a dependency (database or Redis) is unavailable; retry later",
  },
} as const satisfies Record<string, ErrorDefinition>;

export type ErrorName = keyof typeof ERRORS;

export const requiredAttributeMessage = (attribute: string): string => `throttling config: ${attribute} required`;
