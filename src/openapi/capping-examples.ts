import { buildCanDeployReport } from "../authoring/can-deploy.js";
import type { EndpointConfigCanDeployReport, EndpointConfigResource, EndpointConfigValues } from "../capping/capping-config.schema.js";
import { checkEndpointConfig, deployedSnapshot, undeployable } from "../capping/check-endpoint-config.js";
import { endpointConfigValues, malformedJson } from "../capping/endpoint-config-payload.js";
import { ApiError } from "../shared/errors/api-error.js";
import type { ErrorCase, ExampleRequest } from "./error-examples.js";
import {
  EXAMPLE_BASE_PATH,
  EXAMPLE_CREDENTIAL,
  EXAMPLE_ENDPOINT_CONFIG_UID,
  EXAMPLE_ORG_ID,
  EXAMPLE_SANDBOX,
  justCreated,
} from "./examples.js";

// Example values for the Capping API (CONTRACT §12), after Adobe's; canDeploy reports and refusals are computed by
// the code that answers them.

export const endpointConfigUri = (uid: string): string => `${EXAMPLE_BASE_PATH}/endpointConfigs/${uid}`;

/** Adobe's create example: 500 calls per second to a data source, at most 50 at once. */
export const endpointConfigCreateRequest = {
  url: "https://api.example.org/data/2.5/weather",
  methods: ["GET"],
  services: { dataSource: { maxHttpConnections: 50, rating: { maxCallsCount: 500, periodInMs: 1000 } } },
  orgId: EXAMPLE_ORG_ID,
};

/** Every call under `/data/2.5/`, from custom actions: 100 per day. */
export const endpointConfigUpdateRequest = {
  url: "https://api.example.org/data/2.5/*",
  methods: ["GET", "POST"],
  services: { action: { maxHttpConnections: 20, rating: { maxCallsCount: 100, periodInMs: 86_400_000 } } },
  orgId: EXAMPLE_ORG_ID,
};

/** The body of Adobe's Postman collection: no url, no method. Stored; canDeploy lists what is missing. */
export const endpointConfigIncompleteRequest = {
  url: "",
  methods: [],
  services: { dataSource: { maxHttpConnections: 1, rating: { maxCallsCount: 1, periodInMs: 1 } } },
  orgId: "",
};

/** Values of the right types that break several of canDeploy's rules at once (the url is Adobe's canDeploy example's). */
const brokenRequest = {
  url: "https://api.example*.org:8*0/data/2.5/weather",
  methods: ["GET"],
  services: { dataSource: { rating: { maxCallsCount: 0, periodInMs: 90_000_000 } }, email: {} },
};

/** canDeploy of a payload, as the service reports it while a runtime worker is alive. */
function reportFor(payload: unknown): EndpointConfigCanDeployReport {
  const { issues, warnings } = checkEndpointConfig(endpointConfigValues(payload));
  return buildCanDeployReport(issues, warnings);
}

export const incompleteReport = reportFor(endpointConfigIncompleteRequest);
/** Deployable, with a warning: no cap on connections. */
export const uncappedReport = reportFor({ ...endpointConfigCreateRequest, services: { dataSource: { rating: { maxCallsCount: 500, periodInMs: 1000 } } } });
export const brokenReport = reportFor(brokenRequest);

const updatedAt = "2023-03-22T11:39:14.212Z";
const deployedAt = "2023-03-22T11:46:07.532Z";
const redeployedUpdateAt = "2023-03-23T09:02:51.730Z";

const created = endpointConfigValues(endpointConfigCreateRequest);
const updated = endpointConfigValues(endpointConfigUpdateRequest);

/** What a deploy of `values` shows as `deployedConfig`. */
function deployedConfigOf(values: EndpointConfigValues) {
  const { deployable } = checkEndpointConfig(values);
  if (!deployable) throw new Error(`the example config cannot be deployed: ${JSON.stringify(values)}`);
  return deployedSnapshot(deployable);
}

export const createdEndpointConfig: EndpointConfigResource = {
  _id: `${EXAMPLE_ENDPOINT_CONFIG_UID}_${EXAMPLE_SANDBOX.id}`,
  uid: EXAMPLE_ENDPOINT_CONFIG_UID,
  ...created,
  orgId: EXAMPLE_ORG_ID,
  tenantId: EXAMPLE_SANDBOX.name,
  ...justCreated,
};

export const updatedEndpointConfig: EndpointConfigResource = {
  ...createdEndpointConfig,
  ...updated,
  state: "updated",
  metadata: { ...justCreated.metadata, lastModifiedAt: updatedAt },
};

const deployedBy = { lastDeployedBy: EXAMPLE_CREDENTIAL.name, lastDeployedById: EXAMPLE_CREDENTIAL.clientId, lastDeployedAt: deployedAt };

export const deployedEndpointConfig: EndpointConfigResource = {
  ...updatedEndpointConfig,
  state: "deployed",
  hasBeenDeployed: true,
  deployedConfig: deployedConfigOf(updated),
  metadata: { ...updatedEndpointConfig.metadata, ...deployedBy },
  // GET and list only: the runtime's live status.
  runtime: { version: 1, status: "active", queued: 12, oldestQueuedAgeMs: 41_500, dispatchedLastMinute: 4, expiredTotal: 0 },
};

/** Updated after its deploy: the runtime keeps the deployed values (`deployedConfig`) until the next deploy. */
export const updatedAfterDeployEndpointConfig: EndpointConfigResource = {
  ...deployedEndpointConfig,
  services: { action: { maxHttpConnections: 20, rating: { maxCallsCount: 500, periodInMs: 3_600_000 } } },
  state: "updated",
  metadata: { ...deployedEndpointConfig.metadata, lastModifiedAt: redeployedUpdateAt },
};

/** After an undeploy: back to `updated` (it was updated once), and its runtime drains for 24 h. */
export const undeployedEndpointConfig: EndpointConfigResource = {
  ...updatedEndpointConfig,
  metadata: { ...updatedEndpointConfig.metadata, ...deployedBy },
  runtime: {
    version: 1,
    status: "draining",
    drainUntil: "2023-03-24T09:15:02.118Z",
    queued: 7,
    oldestQueuedAgeMs: 52_000,
    dispatchedLastMinute: 0,
    expiredTotal: 0,
  },
};

/** The error a payload is refused with. */
function refusal(key: string, summary: string, request: ExampleRequest, payload: unknown): ErrorCase {
  try {
    endpointConfigValues(payload);
  } catch (error) {
    if (error instanceof ApiError) return { key, summary, request, error };
    throw error;
  }
  throw new Error(`example payload is stored: ${JSON.stringify(payload)}`);
}

/** The 400s a create or update answers: the payload's structure is wrong, so nothing is stored. */
export function endpointConfigPayloadErrors(request: ExampleRequest): ErrorCase[] {
  return [
    { key: "MALFORMED_JSON", summary: "The body is not JSON (112)", request, error: malformedJson("Unexpected token 'u', \"url: https:/\"... is not valid JSON") },
    refusal("NOT_AN_OBJECT", "The body is not a JSON object (112)", request, [endpointConfigCreateRequest]),
    refusal("WRONG_TYPE", "maxCallsCount is a string (111)", request, {
      ...endpointConfigCreateRequest,
      services: { dataSource: { rating: { maxCallsCount: "500", periodInMs: 1000 } } },
    }),
    refusal("UNKNOWN_METHOD", "methods holds OPTION (111)", request, { ...endpointConfigCreateRequest, methods: ["GET", "OPTION"] }),
    refusal("TOO_MANY_CONNECTIONS", "maxHttpConnections is over 400 (111)", request, {
      ...endpointConfigCreateRequest,
      services: { dataSource: { maxHttpConnections: 15_000, rating: { maxCallsCount: 500, periodInMs: 1000 } } },
    }),
  ];
}

/** A deploy of a config canDeploy reports errors for. */
export const undeployableCase = (request: ExampleRequest): ErrorCase => ({
  key: "ENDPOINT_CONFIG_NOT_VALID",
  request,
  error: undeployable(EXAMPLE_ENDPOINT_CONFIG_UID, checkEndpointConfig(endpointConfigValues(endpointConfigIncompleteRequest))),
});
