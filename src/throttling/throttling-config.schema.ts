import { z } from "zod";
import { canDeployReport } from "../authoring/can-deploy.js";
import { distinctMethods, HTTP_METHODS, httpMethod } from "../authoring/http-methods.js";
import { authoringMetadata } from "../authoring/metadata.js";
import { runtimeStatus } from "../authoring/runtime-status.schema.js";
import { urlPatternProblem } from "../authoring/url-pattern.js";
import { ERRORS, type ErrorName } from "../shared/errors/catalogue.js";

export const MIN_THROUGHPUT = 200;
export const MAX_THROUGHPUT = 5000;

const URL_PATTERN_RULES = { wildcardInHost: "CONFIG_WILDCARD_IN_HOST", malformed: "CONFIG_MALFORMED_URL_PATTERN" } as const satisfies Record<
  string,
  ErrorName
>;

const urlPattern = z
  .string()
  .superRefine((value, ctx) => {
    const problem = urlPatternProblem(value);
    if (!problem) return;
    const violation = URL_PATTERN_RULES[problem];
    ctx.addIssue({ code: "custom", message: ERRORS[violation].message, params: { violation } });
  })
  .meta({
    description:
      "Absolute http(s) URL. `*` in the path matches any run of characters (including `/`); " +
      "no wildcard in scheme, host or port; no query or fragment; at most 2,048 characters.",
    example: "https://api.example.org/data/2.5/*",
  });

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
      .array(httpMethod)
      .min(1)
      .transform(distinctMethods)
      .meta({ description: "At least one of GET, POST, PUT, PATCH, DELETE; duplicates are removed." }),
    maxThroughput: z
      .int()
      .min(MIN_THROUGHPUT)
      .max(MAX_THROUGHPUT)
      .meta({ description: "Calls per second, 200–5000 inclusive.", example: 4000 }),
  })
  .meta({ id: "ThrottlingConfigInput" });

export type ThrottlingConfigInput = z.output<typeof throttlingConfigInput>;

const metadata = authoringMetadata.meta({ id: "ThrottlingConfigMetadata" });

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
