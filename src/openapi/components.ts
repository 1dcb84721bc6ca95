import type { OpenAPIRegistry } from "@asteasolutions/zod-to-openapi";
import { EXAMPLE_ENDPOINT_CONFIG_UID, EXAMPLE_ORG_ID, EXAMPLE_SANDBOX, EXAMPLE_UID } from "./examples.js";
import { EXAMPLE_CALL_ID, EXAMPLE_IDEMPOTENCY_KEY } from "./runtime-examples.js";

// Plain OpenAPI components (credentials, parameters, headers) that have no zod schema behind them.

export const SECURITY_SCHEMES = {
  bearerAuth: {
    type: "http",
    scheme: "bearer",
    description: "`Authorization: Bearer <token>`: the credential's token, shown once when an operator issues it.",
  },
  apiKey: {
    type: "apiKey",
    in: "header",
    name: "x-api-key",
    description: "The credential's client id.",
  },
  adminToken: {
    type: "http",
    scheme: "bearer",
    description: "`Authorization: Bearer <ADMIN_TOKEN>`: the operator token from the service's environment.",
  },
  adminSession: {
    type: "apiKey",
    in: "cookie",
    name: "sluice_admin",
    description: "The session cookie `/admin/queues?token=<ADMIN_TOKEN>` sets (an HMAC of the token, not the token).",
  },
  metricsToken: {
    type: "http",
    scheme: "bearer",
    description: "`Authorization: Bearer <METRICS_TOKEN>`, required by /metrics when the service sets `METRICS_TOKEN`.",
  },
} as const;

/** Both schemes together (a credential is a token plus its client id). */
export const CREDENTIAL_SECURITY = [{ bearerAuth: [], apiKey: [] }];
export const ADMIN_SECURITY: Record<string, string[]>[] = [{ adminToken: [] }, { adminSession: [] }];
/** Open, unless METRICS_TOKEN is set. */
export const METRICS_SECURITY: Record<string, string[]>[] = [{}, { metricsToken: [] }];

export const PARAMETERS = {
  Uid: {
    name: "uid",
    in: "path",
    required: true,
    description: "The throttling config's uid. A uid of another organization answers 404 (14467), like an unknown one.",
    schema: { type: "string", format: "uuid" },
    example: EXAMPLE_UID,
  },
  OrgId: {
    name: "x-gw-ims-org-id",
    in: "header",
    required: true,
    description: "The organization; must be the credential's organization (403 otherwise).",
    schema: { type: "string" },
    example: EXAMPLE_ORG_ID,
  },
  SandboxName: {
    name: "x-sandbox-name",
    in: "header",
    required: true,
    description:
      "A sandbox registered for the organization. It must be a production sandbox: a development one answers " +
      "400 (1463), an unknown one 500 (4000).",
    schema: { type: "string" },
    example: EXAMPLE_SANDBOX.name,
  },
  OptionalSandboxName: {
    name: "x-sandbox-name",
    in: "header",
    required: false,
    description: "Optional: calls belong to the organization. When sent, error details name it in `schema`.",
    schema: { type: "string" },
    example: EXAMPLE_SANDBOX.name,
  },
  EndpointConfigUid: {
    name: "uid",
    in: "path",
    required: true,
    description:
      "The endpoint capping config's uid. A uid of another organization answers 404 (`ERR_ENDPOINTCONFIG_NOT_FOUND`), " +
      "like an unknown one.",
    schema: { type: "string", format: "uuid" },
    example: EXAMPLE_ENDPOINT_CONFIG_UID,
  },
  EndpointConfigForceDelete: {
    name: "forceDelete",
    in: "query",
    required: false,
    description:
      "`true` (case-insensitive) deletes a deployed config too: it is undeployed first (its runtime drains for 24 h). " +
      "Without it, deleting a deployed config answers 400 (1451).",
    schema: { type: "boolean", default: false },
  },
  CallId: {
    name: "callId",
    in: "path",
    required: true,
    description: "The id the call was accepted with. A callId of another organization answers 404, like an unknown one.",
    schema: { type: "string" },
    example: EXAMPLE_CALL_ID,
  },
  IdempotencyKey: {
    name: "Idempotency-Key",
    in: "header",
    required: false,
    description:
      "Optional, 1–255 characters. Repeating a submission with the same key returns the original callIds (with their " +
      "current state) instead of queuing the calls again; the same key with a different number of calls answers 409. " +
      "The key is forwarded to the target as `Idempotency-Key`.",
    schema: { type: "string", minLength: 1, maxLength: 255 },
    example: EXAMPLE_IDEMPOTENCY_KEY,
  },
  RequestId: {
    name: "x-request-id",
    in: "header",
    required: false,
    description:
      "Optional. Reused as the response's request id when it is 1–128 characters of `A-Z a-z 0-9 . _ -`; " +
      "otherwise a new 32-alphanumeric id is generated.",
    schema: { type: "string" },
  },
  ForceDelete: {
    name: "forceDelete",
    in: "query",
    required: false,
    description:
      "`true` (case-insensitive) deletes a deployed config too: it is undeployed first (its runtime drains for 24 h). " +
      "Without it, deleting a deployed config answers 400 (1456).",
    schema: { type: "boolean", default: false },
  },
} as const;

/** CONTRACT §7: the API limits of an authenticated request, counted against its organization's ceiling for its class. */
const API_LIMIT_HEADERS = {
  XRateLimitLimit: {
    description:
      "The organization's requests per minute for this class of endpoints (`authoring`: the throttling and capping " +
      "configs; `runtime`: the call API): its plan's ceiling, or an operator's raise while it lasts. Like the other " +
      "four, left out only while Redis cannot be reached (the request is then not counted).",
    required: true,
    schema: { type: "integer", minimum: 0 },
    example: 300,
  },
  XRateLimitRemaining: {
    description: "The requests left in the sliding 60-second window, this one counted (0 when the ceiling refused it: 429).",
    required: true,
    schema: { type: "integer", minimum: 0 },
    example: 299,
  },
  XRateLimitReset: {
    description: "The Unix time, in seconds, at which one more request is sure to be allowed.",
    required: true,
    schema: { type: "integer", minimum: 0 },
    example: 1767225600,
  },
  RateLimitPolicy: {
    description:
      'The IETF quota policy, `"<class>";q=<limit>;w=60`: the class is `authoring` or `runtime`, `q` is ' +
      "`X-RateLimit-Limit`, over a 60-second window.",
    required: true,
    schema: { type: "string", pattern: '^"(authoring|runtime)";q=\\d+;w=60$' },
    example: '"authoring";q=300;w=60',
  },
  RateLimit: {
    description:
      'The IETF rate limit fields, `"<class>";r=<remaining>;t=<seconds>`: `r` is `X-RateLimit-Remaining`, `t` the ' +
      "seconds until one more request is sure to be allowed.",
    required: true,
    schema: { type: "string", pattern: '^"(authoring|runtime)";r=\\d+;t=\\d+$' },
    example: '"authoring";r=299;t=0',
  },
} as const;

type ApiLimitHeader = keyof typeof API_LIMIT_HEADERS;
type IfCounted = `${ApiLimitHeader}IfCounted`;

/** The HTTP name of each API limit header. */
const API_LIMIT_HEADER_NAMES: Record<ApiLimitHeader, string> = {
  XRateLimitLimit: "X-RateLimit-Limit",
  XRateLimitRemaining: "X-RateLimit-Remaining",
  XRateLimitReset: "X-RateLimit-Reset",
  RateLimitPolicy: "RateLimit-Policy",
  RateLimit: "RateLimit",
};

/**
 * The same headers, not required: on the responses that may also be answered before the request was counted (a 500
 * or 503 while the credential is looked up; the 429 for too many failed authentications).
 */
const API_LIMIT_HEADERS_IF_COUNTED = Object.fromEntries(
  Object.entries(API_LIMIT_HEADERS).map(([name, header]) => [
    `${name}IfCounted`,
    {
      ...header,
      required: false,
      description:
        `${header.description} Absent when the request was answered before it was counted: during authentication, ` +
        "or refused for too many failed authentications.",
    },
  ]),
) as Record<IfCounted, { description: string; required: false; schema: object; example: unknown }>;

export const HEADERS = {
  XRequestId: {
    description: "The request id: the caller's `x-request-id` or a new one; also `requestId` in error bodies.",
    required: true,
    schema: { type: "string" },
  },
  RetryAfter: {
    description: "Seconds to wait before retrying.",
    required: true,
    schema: { type: "integer", minimum: 0 },
  },
  ...API_LIMIT_HEADERS,
  ...API_LIMIT_HEADERS_IF_COUNTED,
} as const;

export const parameterRef = (name: keyof typeof PARAMETERS) => ({ $ref: `#/components/parameters/${name}` });
export const headerRef = (name: keyof typeof HEADERS) => ({ $ref: `#/components/headers/${name}` });

/** Headers on every response; 503s and 429s add `Retry-After`. */
export const RESPONSE_HEADERS = { "x-request-id": headerRef("XRequestId") };
export const RETRY_RESPONSE_HEADERS = { ...RESPONSE_HEADERS, "Retry-After": headerRef("RetryAfter") };

/**
 * CONTRACT §7: the API limit headers of a response to an authoring or call API operation; `ifCounted` when the
 * response may also be answered before the request was counted.
 */
export function apiLimitHeaders(ifCounted: boolean): Record<string, ReturnType<typeof headerRef>> {
  return Object.fromEntries(
    Object.entries(API_LIMIT_HEADER_NAMES).map(([component, name]) => [
      name,
      headerRef(ifCounted ? (`${component}IfCounted` as IfCounted) : (component as ApiLimitHeader)),
    ]),
  );
}

export function registerComponents(registry: OpenAPIRegistry): void {
  for (const [name, scheme] of Object.entries(SECURITY_SCHEMES)) registry.registerComponent("securitySchemes", name, scheme);
  for (const [name, parameter] of Object.entries(PARAMETERS)) registry.registerComponent("parameters", name, parameter);
  for (const [name, header] of Object.entries(HEADERS)) registry.registerComponent("headers", name, header);
}
