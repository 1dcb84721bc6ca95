import type { ResponseConfig, ZodRequestBody } from "@asteasolutions/zod-to-openapi";
import type { ErrorName } from "../shared/errors/catalogue.js";
import {
  canDeployResponse,
  createResponse,
  deleteResponse,
  getResponse,
  listResponse,
  throttlingConfigInput,
  updateResponse,
} from "../throttling/throttling-config.schema.js";
import { errorReport, validatePayload } from "../throttling/validate-payload.js";
import { parameterRef } from "./components.js";
import {
  EXAMPLE_UID,
  createRequest,
  createdConfig,
  deployedConfig,
  resourceUri,
  undeployedConfig,
  updateRequest,
  updatedConfig,
} from "./examples.js";
import { example, jsonResponse, noContentResponse, type Examples } from "./responses.js";

export interface AuthoringOperation {
  readonly operationId: string;
  readonly method: "get" | "post" | "put" | "delete";
  /** Relative to the base path (see `servers`). */
  readonly path: string;
  readonly summary: string;
  readonly description: string;
  readonly body?: ZodRequestBody;
  readonly success: { readonly status: 200 | 204; readonly response: ResponseConfig };
  /** Operation-specific 400 codes (CONTRACT §5). */
  readonly rejects?: readonly ErrorName[];
  /** Create and update validate the payload (CONTRACT §4). */
  readonly validatesPayload?: boolean;
  /** The code an unexpected failure answers with (1457–1464); 4000 when absent. */
  readonly failsWith?: ErrorName;
  readonly extraParameters?: readonly ReturnType<typeof parameterRef>[];
}

const payload = (examples: Examples): ZodRequestBody => ({
  required: true,
  description: "Unknown and server-owned fields (`uid`, `state`, `metadata`, ...) are ignored.",
  content: { "application/json": { schema: throttlingConfigInput, examples } },
});

/** canDeploy for a stored config that breaks a rule, as the real validator reports it. */
function blockedReport() {
  const validated = validatePayload({ ...updateRequest, maxThroughput: 6000 });
  if (validated.ok) throw new Error("the canDeploy error example must break a rule");
  return errorReport(validated.violations);
}

/** The Throttling API operations (CONTRACT §1, §5), in the seed's order of use. */
export const AUTHORING_OPERATIONS: readonly AuthoringOperation[] = [
  {
    operationId: "listThrottlingConfigs",
    method: "post",
    path: "/list/throttlingConfigs",
    summary: "List the organization's throttling configs",
    description: "At most one config exists per organization.",
    success: {
      status: 200,
      response: jsonResponse("The organization's configs.", listResponse, {
        deployed: example("A deployed config", { results: [deployedConfig] }),
        none: example("No config yet", { results: [] }),
      }),
    },
  },
  {
    operationId: "createThrottlingConfig",
    method: "post",
    path: "/throttlingConfigs",
    summary: "Create a throttling config",
    description:
      "Validates the whole payload: an invalid one is rejected with 400 and nothing is stored. " +
      "Only one config is allowed per organization (1465).",
    body: payload({ seed: example("The Throttling API's example", createRequest) }),
    success: {
      status: 200,
      response: jsonResponse("Created (state `created`).", createResponse, {
        created: example("Created", {
          canDeploy: { validationStatus: "ok" },
          createdElement: createdConfig,
          uid: EXAMPLE_UID,
          uri: resourceUri(EXAMPLE_UID),
          resStatus: "created",
        }),
      }),
    },
    rejects: ["CREATE_LIMIT"],
    validatesPayload: true,
    failsWith: "CREATE_FAILED",
  },
  {
    operationId: "getThrottlingConfig",
    method: "get",
    path: "/throttlingConfigs/{uid}",
    summary: "Retrieve a throttling config",
    description:
      "Deployed configs also carry `version` and `deployedConfig`, the values in force at runtime, and `runtime`, the " +
      "live status of the runtime version (active, or draining for 24 h after an undeploy).",
    success: {
      status: 200,
      response: jsonResponse("The config.", getResponse, {
        afterUpdate: example("After an update", { result: updatedConfig }),
        afterDeploy: example("After a deploy", { result: deployedConfig }),
        afterUndeploy: example("After an undeploy: the runtime version drains", { result: undeployedConfig }),
      }),
    },
    failsWith: "GET_FAILED",
  },
  {
    operationId: "updateThrottlingConfig",
    method: "put",
    path: "/throttlingConfigs/{uid}",
    summary: "Update a throttling config",
    description:
      "Replaces the editable fields after validating the whole payload (400 and no change when invalid); a GET result " +
      "can be edited and PUT back. A deployed config stays deployed and the runtime applies the new values at once; " +
      "otherwise the state becomes `updated`.",
    body: payload({ seed: example("The Throttling API's example", updateRequest) }),
    success: {
      status: 200,
      response: jsonResponse("Updated.", updateResponse, {
        updated: example("Updated", {
          updatedElement: updatedConfig,
          uid: EXAMPLE_UID,
          uri: resourceUri(EXAMPLE_UID),
          resStatus: "updated",
          canDeploy: { validationStatus: "ok" },
        }),
      }),
    },
    rejects: ["UPDATE_NOT_ACTIVE"],
    validatesPayload: true,
    failsWith: "UPDATE_FAILED",
  },
  ...(["get", "post"] as const).map(
    (method): AuthoringOperation => ({
      operationId: method === "get" ? "canDeployThrottlingConfig" : "canDeployThrottlingConfigPost",
      method,
      path: "/throttlingConfigs/{uid}/canDeploy",
      summary: `Check whether a throttling config can be deployed (${method.toUpperCase()})`,
      description:
        "Re-validates the stored config and reports runtime readiness: when no runtime worker is alive, " +
        "`warnings` holds `RUNTIME_NO_WORKER` (calls would queue until a worker starts). GET and POST are equivalent.",
      success: {
        status: 200,
        response: jsonResponse("The validation report.", canDeployResponse, {
          ok: example("Deployable", { canDeploy: { validationStatus: "ok" } }),
          blocked: example("The stored config breaks a rule", { canDeploy: blockedReport() }),
        }),
      },
    }),
  ),
  {
    operationId: "deployThrottlingConfig",
    method: "post",
    path: "/throttlingConfigs/{uid}/deploy",
    summary: "Deploy a throttling config",
    description: "Creates a new runtime version that throttles matching calls from now on.",
    success: { status: 204, response: noContentResponse("Deployed.") },
    rejects: ["ALREADY_DEPLOYED"],
    failsWith: "DEPLOY_FAILED",
  },
  {
    operationId: "undeployThrottlingConfig",
    method: "post",
    path: "/throttlingConfigs/{uid}/undeploy",
    summary: "Undeploy a throttling config",
    description:
      "Marks the runtime version inactive: new calls no longer match it, and its queue keeps draining for 24 h.",
    success: { status: 204, response: noContentResponse("Undeployed.") },
    rejects: ["NOT_DEPLOYED"],
    failsWith: "UNDEPLOY_FAILED",
  },
  {
    operationId: "deleteThrottlingConfig",
    method: "delete",
    path: "/throttlingConfigs/{uid}",
    summary: "Delete a throttling config",
    description: "A deployed config is only deleted with `forceDelete=true`, which undeploys it in the same call.",
    extraParameters: [parameterRef("ForceDelete")],
    success: { status: 200, response: jsonResponse("Deleted.", deleteResponse, { deleted: example("Deleted", {}) }) },
    rejects: ["DELETE_FORBIDDEN"],
    failsWith: "DELETE_FAILED",
  },
];
