import { z } from "zod";
import { canDeployReportOf, runtimeWarning } from "../authoring/can-deploy.js";
import { distinctMethods, HTTP_METHODS, httpMethod } from "../authoring/http-methods.js";
import { authoringMetadata } from "../authoring/metadata.js";
import { runtimeStatus } from "../authoring/runtime-status.schema.js";
import type { CappingService } from "../runtime/capping-runtimes.js";

export const MAX_HTTP_CONNECTIONS = 400;
export const MAX_PERIOD_MS = 86_400_000;

/** `null` is taken as absent, as if the field had not been sent. */
const withoutNulls = (value: unknown): unknown =>
  value !== null && typeof value === "object" && !Array.isArray(value)
    ? Object.fromEntries(Object.entries(value).filter(([, field]) => field !== null))
    : value;

const maxHttpConnections = z.int().min(1).max(MAX_HTTP_CONNECTIONS);

// What a deploy needs (CONTRACT §12). canDeploy checks the stored values against these; the payload only needs the
// right types, so a value of the right type that breaks them is stored and reported (107, 108).
export const maxCallsCount = z.int().min(1).meta({ description: "Calls allowed in any sliding `periodInMs`.", example: 500 });
export const periodInMs = z.int().min(1).max(MAX_PERIOD_MS).meta({ description: "The window, in ms (at most 24 h).", example: 1000 });

const rating = z
  .preprocess(
    withoutNulls,
    z.object({
      maxCallsCount: z.number().optional().meta({
        description:
          "Calls allowed in any sliding `periodInMs`. Deployable when an integer ≥ 1; any other number (`0`, `2.5`) " +
          "is stored and reported by canDeploy (`ERR_ENDPOINTCONFIG_107`); a value that is not a number is refused (111).",
        example: 500,
      }),
      periodInMs: z.number().optional().meta({
        description:
          "The window, in ms. Deployable when an integer from 1 to 86,400,000 (24 h); any other number is stored and " +
          "reported by canDeploy (`ERR_ENDPOINTCONFIG_108`); a value that is not a number is refused (111).",
        example: 1000,
      }),
    }),
  )
  .meta({ id: "EndpointConfigRating", description: "Missing: canDeploy reports `ERR_ENDPOINTCONFIG_104`." });

const service = z
  .preprocess(
    withoutNulls,
    z.object({
      maxHttpConnections: maxHttpConnections.optional().meta({
        description:
          "At most this many requests in flight at once: an integer from 1 to 400, refused (111) otherwise. Missing: " +
          "no limit, and canDeploy warns (`ERR_ENDPOINTCONFIG_106`).",
        example: 50,
      }),
      rating: rating.optional(),
    }),
  )
  .meta({ id: "EndpointConfigService" });

const services = z.record(z.string(), service).meta({
  description:
    "The limits per service: `action` (custom actions) and/or `dataSource` (data sources). Another name is stored " +
    "and reported by canDeploy (`ERR_AUTHORING_ENDPOINTCONFIG_1`); no service at all, `ERR_ENDPOINTCONFIG_104`.",
  example: { dataSource: { maxHttpConnections: 50, rating: { maxCallsCount: 500, periodInMs: 1000 } } },
});

/**
 * The create/update payload (CONTRACT §12). Refused (`ERR_ENDPOINTCONFIG_111`) only when a field has the wrong type, a
 * method is unknown or `maxHttpConnections` is not an integer in 1..400; otherwise stored as given, even with values
 * canDeploy reports. `null` counts as absent. Unknown and server-owned fields are stripped, so a GET → edit → PUT
 * round trip works.
 */
export const endpointConfigInput = z
  .preprocess(
    withoutNulls,
    z.object({
      url: z.string().default("").meta({
        description:
          "The endpoint: an absolute http(s) URL; `*` in the path matches any run of characters (including `/`); no " +
          "wildcard in scheme, host or port; no query or fragment; at most 2,048 characters. Missing or empty: " +
          "stored as `\"\"` and reported by canDeploy (`ERR_ENDPOINTCONFIG_100`); a malformed one, `_101` or `_102`.",
        example: "https://api.example.org/data/2.5/*",
      }),
      methods: z
        .array(httpMethod)
        .transform(distinctMethods)
        .default([])
        .meta({
          description:
            "Any of GET, POST, PUT, PATCH, DELETE (another method is refused, 111); duplicates are removed. Missing " +
            "or empty: canDeploy reports `ERR_ENDPOINTCONFIG_103`.",
        }),
      services: services.default({}),
      orgId: z.unknown().optional().meta({ description: "Ignored: the organization is the one of `x-gw-ims-org-id`." }),
    }),
  )
  .meta({ id: "EndpointConfigInput" });

/** A payload's values as stored. */
export type EndpointConfigValues = Pick<z.output<typeof endpointConfigInput>, "url" | "methods" | "services">;
export type EndpointConfigServices = EndpointConfigValues["services"];

const deployedService = z
  .object({ maxHttpConnections: maxHttpConnections.optional(), rating: z.object({ maxCallsCount, periodInMs }) })
  .meta({ id: "DeployedEndpointConfigService" });

export const deployedEndpointConfig = z
  .object({
    url: z.string(),
    methods: z.array(z.enum(HTTP_METHODS)),
    services: z.object({ action: deployedService.optional(), dataSource: deployedService.optional() } satisfies Record<CappingService, z.ZodType>),
  })
  .meta({ id: "DeployedEndpointConfig", description: "The values in force at runtime: those of the latest deploy." });

export type DeployedEndpointConfig = z.infer<typeof deployedEndpointConfig>;

export const ENDPOINT_CONFIG_STATES = ["created", "updated", "deployed"] as const;

/** A stored capping config as the API returns it (CONTRACT §12). */
export const endpointConfigResource = z
  .object({
    _id: z.string().meta({ description: "`<uid>_<sandboxId>`" }),
    uid: z.uuid(),
    url: z.string(),
    methods: z.array(z.enum(HTTP_METHODS)),
    services,
    orgId: z.string(),
    tenantId: z.string().meta({ description: "The sandbox name, as in Adobe's examples." }),
    sandboxId: z.uuid(),
    sandboxName: z.string(),
    state: z.enum(ENDPOINT_CONFIG_STATES),
    hasBeenDeployed: z.boolean().meta({ description: "Whether a deploy is in force (until an undeploy)." }),
    authoringFormatVersion: z.literal("1.0"),
    deployedConfig: deployedEndpointConfig.optional(),
    runtime: runtimeStatus
      .optional()
      .meta({ description: "Present once the config has been deployed (GET and list); `version` counts its deploys." }),
    metadata: authoringMetadata.meta({ id: "EndpointConfigMetadata" }),
  })
  .meta({ id: "EndpointConfig" });

export type EndpointConfigResource = z.infer<typeof endpointConfigResource>;

/** A service without `maxHttpConnections` (`ERR_ENDPOINTCONFIG_106`): a warning, which does not block a deploy. */
export const endpointConfigWarning = z
  .object({
    warningCode: z.literal("ERR_ENDPOINTCONFIG_106"),
    warning: z.string(),
    scope: z.object({ endpointConfigService: z.string(), endpointConfigUrl: z.string() }),
  })
  .meta({ id: "EndpointConfigWarning" });

export type EndpointConfigWarning = z.infer<typeof endpointConfigWarning>;

export const endpointConfigCanDeployReport = canDeployReportOf(z.union([endpointConfigWarning, runtimeWarning])).meta({
  id: "EndpointConfigCanDeployReport",
});

export type EndpointConfigCanDeployReport = z.infer<typeof endpointConfigCanDeployReport>;

export const endpointConfigListResponse = z
  .object({ results: z.array(endpointConfigResource) })
  .meta({ id: "EndpointConfigListResponse" });
export const endpointConfigGetResponse = z.object({ result: endpointConfigResource }).meta({ id: "EndpointConfigGetResponse" });
export const endpointConfigCanDeployResponse = z
  .object({ canDeploy: endpointConfigCanDeployReport })
  .meta({ id: "EndpointConfigCanDeployResponse" });
export const endpointConfigCreateResponse = z
  .object({
    createdElement: endpointConfigResource,
    uid: z.uuid(),
    uri: z.string(),
    resStatus: z.literal("created"),
    canDeploy: endpointConfigCanDeployReport,
  })
  .meta({ id: "EndpointConfigCreateResponse" });
export const endpointConfigUpdateResponse = z
  .object({
    updatedElement: endpointConfigResource,
    uid: z.uuid(),
    uri: z.string(),
    resStatus: z.literal("updated"),
    canDeploy: endpointConfigCanDeployReport,
  })
  .meta({ id: "EndpointConfigUpdateResponse" });
