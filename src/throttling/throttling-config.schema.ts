import { z } from "zod";
import { ERRORS } from "../shared/errors/catalogue.js";
import { urlPatternViolation } from "./url-pattern.js";

export const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
export const MIN_THROUGHPUT = 200;
export const MAX_THROUGHPUT = 5000;

const urlPattern = z
  .string()
  .superRefine((value, ctx) => {
    const violation = urlPatternViolation(value);
    if (violation) ctx.addIssue({ code: "custom", message: ERRORS[violation].message, params: { violation } });
  })
  .meta({
    description:
      "Absolute http(s) URL. `*` in the path matches any run of characters (including `/`); " +
      "no wildcard in scheme, host or port; no query or fragment; at most 2,048 characters.",
    example: "https://api.example.org/data/2.5/*",
  });

const method = z.preprocess(
  (value) => (typeof value === "string" ? value.toUpperCase() : value),
  z.enum(HTTP_METHODS).meta({ description: "Matched case-insensitively, stored upper-case." }),
);

/**
 * The create/update payload (seed "Throttling configuration"). Unknown and server-owned fields are
 * stripped, so a GET → edit → PUT round trip works.
 */
export const throttlingConfigInput = z
  .object({
    name: z.string().nullish().meta({ description: "Free text.", example: "throttling-config-external" }),
    description: z.string().nullish().meta({ description: "Free text." }),
    urlPattern,
    methods: z
      .array(method)
      .min(1)
      .transform((methods) => [...new Set(methods)])
      .meta({ description: "At least one of GET, POST, PUT, PATCH, DELETE; duplicates are removed." }),
    maxThroughput: z
      .int()
      .min(MIN_THROUGHPUT)
      .max(MAX_THROUGHPUT)
      .meta({ description: "Calls per second, 200–5000 inclusive.", example: 4000 }),
  })
  .meta({ id: "ThrottlingConfigInput" });

export type ThrottlingConfigInput = z.output<typeof throttlingConfigInput>;

const metadata = z
  .object({
    createdBy: z.string(),
    createdById: z.string(),
    createdAt: z.iso.datetime(),
    lastModifiedBy: z.string(),
    lastModifiedById: z.string(),
    lastModifiedAt: z.iso.datetime(),
    lastDeployedBy: z.string().optional(),
    lastDeployedById: z.string().optional(),
    lastDeployedAt: z.iso.datetime().optional(),
  })
  .meta({ id: "ThrottlingConfigMetadata" });

export const deployedConfig = z
  .object({
    name: z.string().optional(),
    description: z.string().optional(),
    urlPattern: z.string(),
    methods: z.array(z.enum(HTTP_METHODS)),
    maxThroughput: z.int(),
  })
  .meta({ id: "DeployedConfig", description: "The values in force at runtime." });

export const CONFIG_STATES = ["created", "updated", "deployed", "undeployed"] as const;

/** The org's runtime config as the workers see it (CONTRACT §3): the config's latest runtime version. */
export const runtimeStatus = z
  .object({
    version: z.int().meta({ description: "Runtime version number (`version` \"<n>.0\" of the config)." }),
    status: z.enum(["active", "draining"]),
    drainUntil: z.iso.datetime().optional(),
    queued: z.int().meta({ description: "Calls waiting in this version's queue." }),
    oldestQueuedAgeMs: z.int().meta({ description: "Age of the oldest waiting call; 0 when none." }),
    dispatchedLastMinute: z.int(),
    expiredTotal: z.int(),
  })
  .meta({ id: "RuntimeStatus" });
export type RuntimeStatus = z.infer<typeof runtimeStatus>;

/** A stored throttling config as the API returns it (CONTRACT §3). */
export const throttlingConfigResource = z
  .object({
    _id: z.string().meta({ description: "`<uid>_<sandboxId>`" }),
    uid: z.uuid(),
    name: z.string().optional(),
    description: z.string().optional(),
    urlPattern: z.string(),
    methods: z.array(z.enum(HTTP_METHODS)),
    maxThroughput: z.int().min(MIN_THROUGHPUT).max(MAX_THROUGHPUT),
    orgId: z.string(),
    sandboxId: z.uuid(),
    sandboxName: z.string(),
    state: z.enum(CONFIG_STATES),
    hasBeenDeployed: z.boolean(),
    authoringFormatVersion: z.literal("1.0"),
    version: z.string().optional().meta({ description: "Runtime version of the latest deploy, e.g. `1.0`." }),
    deployedConfig: deployedConfig.optional(),
    runtime: runtimeStatus.optional().meta({ description: "Present once the config has been deployed (GET and list)." }),
    metadata,
  })
  .meta({ id: "ThrottlingConfig" });

export type ThrottlingConfigResource = z.infer<typeof throttlingConfigResource>;

const issue = z.object({ errorCode: z.string(), error: z.string() }).meta({ id: "CanDeployIssue" });
const warning = z
  .object({ warningCode: z.enum(["RUNTIME_NO_WORKER", "RUNTIME_UNKNOWN"]), warning: z.string() })
  .meta({ id: "CanDeployWarning" });

export const canDeployReport = z
  .object({
    validationStatus: z.enum(["ok", "error"]),
    reason: z.string().optional(),
    errors: z.array(issue).optional(),
    warnings: z.array(warning).optional(),
  })
  .meta({ id: "CanDeployReport" });

export type CanDeployReport = z.infer<typeof canDeployReport>;
export type CanDeployWarning = z.infer<typeof warning>;

export const listResponse = z.object({ results: z.array(throttlingConfigResource) }).meta({ id: "ListResponse" });
export const getResponse = z.object({ result: throttlingConfigResource }).meta({ id: "GetResponse" });
export const canDeployResponse = z.object({ canDeploy: canDeployReport }).meta({ id: "CanDeployResponse" });
export const createResponse = z
  .object({
    canDeploy: canDeployReport,
    createdElement: throttlingConfigResource,
    uid: z.uuid(),
    uri: z.string(),
    resStatus: z.literal("created"),
  })
  .meta({ id: "CreateResponse" });
export const updateResponse = z
  .object({
    updatedElement: throttlingConfigResource,
    uid: z.uuid(),
    uri: z.string(),
    resStatus: z.literal("updated"),
    canDeploy: canDeployReport,
  })
  .meta({ id: "UpdateResponse" });
export const deleteResponse = z.strictObject({}).meta({ id: "DeleteResponse" });
