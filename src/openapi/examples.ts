import { resolveVersion } from "../config/version.js";
import { AUTHORING_BASE_PATHS } from "../authoring/base-paths.js";
import type { ThrottlingConfigResource } from "../throttling/throttling-config.schema.js";

// Example values mirroring the seed's "Responses examples", as Sluice answers them.

/** What the service reports as `version` when SLUICE_VERSION is unset; also the document's version. */
export const SERVICE_VERSION = resolveVersion(undefined);

export const EXAMPLE_BASE_PATH = AUTHORING_BASE_PATHS[0];
export const EXAMPLE_UID = "043a1aea-2dfd-4965-b93a-cb9a1eced0e6";
/** An endpoint capping config's: Adobe's example uid. */
export const EXAMPLE_ENDPOINT_CONFIG_UID = "9e6bbdf4-8e40-4ac8-9e83-1e2cc7f0f1e7";
export const EXAMPLE_ORG_ID = "AC202A3A5F615BD30A495FDE@AdobeOrg";
export const EXAMPLE_SANDBOX = { id: "8872a010-f91e-11ea-895c-11ef8f98ba52", name: "prod" } as const;
export const EXAMPLE_DEV_SANDBOX = "dev";
export const EXAMPLE_UNKNOWN_SANDBOX = "staging";
export const EXAMPLE_CREDENTIAL = { name: "journey-integration", clientId: "sluice-5f0c2b9d8e7a41c3b6d2e9f1" } as const;

export const resourceUri = (uid: string): string => `${EXAMPLE_BASE_PATH}/throttlingConfigs/${uid}`;

export const createRequest = {
  name: "throttling-config-external",
  description: "example of throttling config for an external endpoint",
  urlPattern: "https://api.example.org/data/2.5/*",
  methods: ["POST", "PUT"],
  maxThroughput: 4000,
};

export const updateRequest = {
  name: "throttling-config-external -- optional",
  description: "example of throttling config for an external endpoint -- optional",
  urlPattern: "https://api.example.org/data/2.5/*",
  methods: ["POST"],
  maxThroughput: 5000,
};

const createdAt = "2023-03-22T10:48:16.099Z";
const updatedAt = "2023-03-22T11:39:14.212Z";
const deployedAt = "2023-03-22T11:46:07.532Z";
const authored = {
  createdBy: EXAMPLE_CREDENTIAL.name,
  createdById: EXAMPLE_CREDENTIAL.clientId,
  lastModifiedBy: EXAMPLE_CREDENTIAL.name,
  lastModifiedById: EXAMPLE_CREDENTIAL.clientId,
};

/** A config's fields after its own, once just created in the example sandbox by the example credential. */
export const justCreated = {
  sandboxId: EXAMPLE_SANDBOX.id,
  sandboxName: EXAMPLE_SANDBOX.name,
  state: "created",
  hasBeenDeployed: false,
  authoringFormatVersion: "1.0",
  metadata: { ...authored, createdAt, lastModifiedAt: createdAt },
} as const;

export const createdConfig: ThrottlingConfigResource = {
  _id: `${EXAMPLE_UID}_${EXAMPLE_SANDBOX.id}`,
  uid: EXAMPLE_UID,
  name: createRequest.name,
  description: createRequest.description,
  urlPattern: createRequest.urlPattern,
  methods: ["POST", "PUT"],
  maxThroughput: createRequest.maxThroughput,
  orgId: EXAMPLE_ORG_ID,
  ...justCreated,
};

export const updatedConfig: ThrottlingConfigResource = {
  ...createdConfig,
  name: updateRequest.name,
  description: updateRequest.description,
  methods: ["POST"],
  maxThroughput: updateRequest.maxThroughput,
  state: "updated",
  metadata: { ...authored, createdAt, lastModifiedAt: updatedAt },
};

export const deployedConfig: ThrottlingConfigResource = {
  ...updatedConfig,
  state: "deployed",
  hasBeenDeployed: true,
  version: "1.0",
  deployedConfig: {
    name: updateRequest.name,
    description: updateRequest.description,
    urlPattern: updateRequest.urlPattern,
    methods: ["POST"],
    maxThroughput: updateRequest.maxThroughput,
  },
  metadata: {
    ...updatedConfig.metadata,
    lastDeployedBy: EXAMPLE_CREDENTIAL.name,
    lastDeployedById: EXAMPLE_CREDENTIAL.clientId,
    lastDeployedAt: deployedAt,
  },
  // GET and list only: the runtime version's live status (CONTRACT §3).
  runtime: { version: 1, status: "active", queued: 1250, oldestQueuedAgeMs: 310, dispatchedLastMinute: 298_500, expiredTotal: 0 },
};

/** After an undeploy, the runtime version keeps draining its queue for 24 h. */
export const undeployedConfig: ThrottlingConfigResource = {
  ...deployedConfig,
  state: "undeployed",
  runtime: {
    version: 1,
    status: "draining",
    drainUntil: "2023-03-23T12:10:42.118Z",
    queued: 830,
    oldestQueuedAgeMs: 4_020,
    dispatchedLastMinute: 300_000,
    expiredTotal: 0,
  },
};
