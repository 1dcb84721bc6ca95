import type { ZodRequestBody } from "@asteasolutions/zod-to-openapi";
import type { Request } from "express";
import { caller, forceDeleteOf, resourcePath, uidOf } from "../authoring/request.js";
import { deleteResponse } from "../authoring/responses.schema.js";
import type { Operation } from "../http/operation.js";
import { parameterRef } from "../openapi/components.js";
import {
  EXAMPLE_UID,
  createRequest,
  createdConfig,
  deployedConfig,
  resourceUri,
  undeployedConfig,
  updateRequest,
  updatedConfig,
} from "../openapi/examples.js";
import { example, jsonResponse, noContentResponse, type Examples } from "../openapi/responses.js";
import type { RuntimeStatusReader } from "../runtime/runtime-status.js";
import {
  canDeployResponse,
  createResponse,
  getResponse,
  listResponse,
  throttlingConfigInput,
  updateResponse,
} from "./throttling-config.schema.js";
import type { ThrottlingConfigService } from "./throttling-config.service.js";
import { toResource } from "./throttling-config.view.js";
import { errorReport, validatePayload } from "./validate-payload.js";

/** What the throttling operations' handlers use. */
export interface ThrottlingDeps {
  service: ThrottlingConfigService;
  runtime: RuntimeStatusReader;
}

function validBody(req: Request) {
  const validated = validatePayload(req.body);
  if (!validated.ok) throw validated.error;
  return validated.value;
}

const uriOf = (req: Request, uid: string) => resourcePath(req, "throttlingConfigs", uid);

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

/** The Throttling API operations (CONTRACT §1, §5), in the seed's order of use: what each is, and its handler. */
export const THROTTLING_OPERATIONS: readonly Operation<ThrottlingDeps>[] = [
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
    async handle({ service, runtime }, _req, res) {
      const configs = await service.list(caller(res).principal.orgId);
      const blocks = await runtime.forConfigs(configs.map((config) => config.uid));
      res.json({ results: configs.map((config) => toResource(config, blocks.get(config.uid))) });
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
    async handle({ service }, req, res) {
      const { principal, sandbox } = caller(res);
      const created = await service.create(principal, sandbox, validBody(req));
      res.json({
        canDeploy: await service.canDeployReport(created),
        createdElement: toResource(created),
        uid: created.uid,
        uri: uriOf(req, created.uid),
        resStatus: "created",
      });
    },
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
    async handle({ service, runtime }, req, res) {
      const { config, runtime: latest } = await service.get(caller(res).principal.orgId, uidOf(req));
      res.json({ result: toResource(config, latest && (await runtime.forRuntimeVersion(config.uid, latest))) });
    },
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
    async handle({ service }, req, res) {
      const updated = await service.update(caller(res).principal, uidOf(req), validBody(req));
      res.json({
        updatedElement: toResource(updated),
        uid: updated.uid,
        uri: uriOf(req, updated.uid),
        resStatus: "updated",
        canDeploy: await service.canDeployReport(updated),
      });
    },
  },
  ...(["get", "post"] as const).map(
    (method): Operation<ThrottlingDeps> => ({
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
      async handle({ service }, req, res) {
        res.json({ canDeploy: await service.canDeploy(caller(res).principal.orgId, uidOf(req)) });
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
    async handle({ service }, req, res) {
      await service.deploy(caller(res).principal, uidOf(req));
      res.end();
    },
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
    async handle({ service }, req, res) {
      await service.undeploy(caller(res).principal, uidOf(req));
      res.end();
    },
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
    async handle({ service }, req, res) {
      await service.remove(caller(res).principal, uidOf(req), forceDeleteOf(req));
      res.json({});
    },
  },
];
