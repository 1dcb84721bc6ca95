import type { ZodRequestBody } from "@asteasolutions/zod-to-openapi";
import type { Request } from "express";
import { caller, forceDeleteOf, resourcePath, uidOf } from "../authoring/request.js";
import { deleteResponse } from "../authoring/responses.schema.js";
import type { Operation } from "../http/operation.js";
import {
  brokenReport,
  createdEndpointConfig,
  deployedEndpointConfig,
  endpointConfigCreateRequest,
  endpointConfigIncompleteRequest,
  endpointConfigUpdateRequest,
  endpointConfigUri,
  incompleteReport,
  uncappedReport,
  undeployedEndpointConfig,
  updatedAfterDeployEndpointConfig,
  updatedEndpointConfig,
} from "../openapi/capping-examples.js";
import { parameterRef } from "../openapi/components.js";
import { EXAMPLE_ENDPOINT_CONFIG_UID } from "../openapi/examples.js";
import { example, jsonResponse, noContentResponse, type Examples } from "../openapi/responses.js";
import type { RuntimeStatusReader } from "../runtime/runtime-status.js";
import {
  endpointConfigCanDeployResponse,
  endpointConfigCreateResponse,
  endpointConfigGetResponse,
  endpointConfigInput,
  endpointConfigListResponse,
  endpointConfigUpdateResponse,
} from "./capping-config.schema.js";
import type { CappingConfigService } from "./capping-config.service.js";
import { toEndpointConfigResource } from "./capping-config.view.js";
import { endpointConfigValues } from "./endpoint-config-payload.js";
import { ENDPOINT_CONFIG_ISSUES, invalidServiceName } from "./endpoint-config-issues.js";

/** What the capping operations' handlers use. */
export interface CappingDeps {
  service: CappingConfigService;
  runtime: RuntimeStatusReader;
}

const uriOf = (req: Request, uid: string) => resourcePath(req, "endpointConfigs", uid);

const payload = (examples: Examples): ZodRequestBody => ({
  required: true,
  description:
    "Refused (400, nothing stored) only for its structure: not a JSON object (`ERR_ENDPOINTCONFIG_112`); a field of " +
    "the wrong type (a string for a number, ...), an unknown method, or a `maxHttpConnections` that is not an integer " +
    "from 1 to 400 (`ERR_ENDPOINTCONFIG_111`). Anything else is stored as given, numbers that break a rule " +
    "(`maxCallsCount` 0 or 2.5, ...) included, and `canDeploy` in the answer lists every problem. `null` counts as " +
    "absent; unknown and server-owned fields (`uid`, `state`, `metadata`, ...) are ignored, and so is `orgId`.",
  content: { "application/json": { schema: endpointConfigInput, examples } },
});

const CAN_DEPLOY_CODES = [...Object.values(ENDPOINT_CONFIG_ISSUES), invalidServiceName("<given value>")]
  .map(({ errorCode, error }) => `- \`${errorCode}\`: ${error}`)
  .join("\n");

/** The Capping API operations (CONTRACT §12), in the order of Adobe's collection: what each is, and its handler. */
export const CAPPING_OPERATIONS: readonly Operation<CappingDeps>[] = [
  {
    operationId: "listEndpointConfigs",
    method: "post",
    path: "/list/endpointConfigs",
    summary: "List the organization's endpoint capping configs",
    description: "Every capping config of the organization, oldest first.",
    success: {
      status: 200,
      response: jsonResponse("The organization's configs.", endpointConfigListResponse, {
        deployed: example("A deployed config", { results: [deployedEndpointConfig] }),
        none: example("No config yet", { results: [] }),
      }),
    },
    async handle({ service, runtime }, _req, res) {
      const configs = await service.list(caller(res).principal.orgId);
      const blocks = await runtime.forCappingConfigs(configs.map((config) => config.uid));
      res.json({ results: configs.map((config) => toEndpointConfigResource(config, blocks.get(config.uid))) });
    },
  },
  {
    operationId: "getEndpointConfig",
    method: "get",
    path: "/endpointConfigs/{uid}",
    summary: "Retrieve an endpoint capping config",
    description:
      "The latest values, `state` (`created`, `updated` or `deployed`) and `hasBeenDeployed`; once deployed, " +
      "`deployedConfig` holds the values in force at runtime (they differ from the others after an update, until the " +
      "next deploy), and `runtime` the live status of its runtime (active, or draining for 24 h after an undeploy).",
    success: {
      status: 200,
      response: jsonResponse("The config.", endpointConfigGetResponse, {
        afterDeploy: example("After a deploy", { result: deployedEndpointConfig }),
        updatedAfterDeploy: example("Updated after its deploy: the runtime keeps `deployedConfig`", { result: updatedAfterDeployEndpointConfig }),
        afterUndeploy: example("After an undeploy: the runtime drains", { result: undeployedEndpointConfig }),
      }),
    },
    failsWith: "ENDPOINT_CONFIG_GET_FAILED",
    async handle({ service, runtime }, req, res) {
      const config = await service.get(caller(res).principal.orgId, uidOf(req));
      const blocks = await runtime.forCappingConfigs([config.uid]);
      res.json({ result: toEndpointConfigResource(config, blocks.get(config.uid)) });
    },
  },
  {
    operationId: "createEndpointConfig",
    method: "post",
    path: "/endpointConfigs",
    summary: "Create an endpoint capping config",
    description:
      "Stores the config (state `created`) even when it cannot be deployed yet: `canDeploy` lists every problem. " +
      "An organization has many configs, but at most one per url for any one method (`ERR_ENDPOINTCONFIG_DUPLICATE`, " +
      "nothing stored): urls compare with scheme and host case-insensitive and the default port implied.",
    body: payload({
      adobe: example("Adobe's example", endpointConfigCreateRequest),
      collection: example("Adobe's collection: no url, no method (stored; canDeploy reports them)", endpointConfigIncompleteRequest),
    }),
    success: {
      status: 200,
      response: jsonResponse("Created (state `created`).", endpointConfigCreateResponse, {
        created: example("Created", {
          createdElement: createdEndpointConfig,
          uid: EXAMPLE_ENDPOINT_CONFIG_UID,
          uri: endpointConfigUri(EXAMPLE_ENDPOINT_CONFIG_UID),
          resStatus: "created",
          canDeploy: { validationStatus: "ok" },
        }),
        incomplete: example("Stored with problems: canDeploy lists them", {
          createdElement: { ...createdEndpointConfig, url: "", methods: [], services: endpointConfigIncompleteRequest.services },
          uid: EXAMPLE_ENDPOINT_CONFIG_UID,
          uri: endpointConfigUri(EXAMPLE_ENDPOINT_CONFIG_UID),
          resStatus: "created",
          canDeploy: incompleteReport,
        }),
      }),
    },
    rejects: ["ENDPOINT_CONFIG_DUPLICATE"],
    validatesPayload: true,
    failsWith: "ENDPOINT_CONFIG_CREATE_FAILED",
    async handle({ service }, req, res) {
      const { principal, sandbox } = caller(res);
      const created = await service.create(principal, sandbox, endpointConfigValues(req.body));
      res.json({
        createdElement: toEndpointConfigResource(created),
        uid: created.uid,
        uri: uriOf(req, created.uid),
        resStatus: "created",
        canDeploy: await service.canDeployReport(created),
      });
    },
  },
  {
    operationId: "updateEndpointConfig",
    method: "put",
    path: "/endpointConfigs/{uid}",
    summary: "Update an endpoint capping config",
    description:
      "Replaces the url, methods and services (a GET result can be edited and PUT back); the state becomes `updated`. " +
      "A deployed config stays in force with its deployed values (`deployedConfig`, `hasBeenDeployed` true) until " +
      "it is deployed again. Refused like a create.",
    body: payload({ update: example("Every call under /data/2.5/, 100 per day", endpointConfigUpdateRequest) }),
    success: {
      status: 200,
      response: jsonResponse("Updated.", endpointConfigUpdateResponse, {
        updated: example("Updated", {
          updatedElement: updatedEndpointConfig,
          uid: EXAMPLE_ENDPOINT_CONFIG_UID,
          uri: endpointConfigUri(EXAMPLE_ENDPOINT_CONFIG_UID),
          resStatus: "updated",
          canDeploy: { validationStatus: "ok" },
        }),
      }),
    },
    rejects: ["ENDPOINT_CONFIG_DUPLICATE"],
    validatesPayload: true,
    failsWith: "ENDPOINT_CONFIG_UPDATE_FAILED",
    async handle({ service }, req, res) {
      const updated = await service.update(caller(res).principal, uidOf(req), endpointConfigValues(req.body));
      res.json({
        updatedElement: toEndpointConfigResource(updated),
        uid: updated.uid,
        uri: uriOf(req, updated.uid),
        resStatus: "updated",
        canDeploy: await service.canDeployReport(updated),
      });
    },
  },
  ...(["get", "post"] as const).map(
    (method): Operation<CappingDeps> => ({
      operationId: method === "get" ? "canDeployEndpointConfig" : "canDeployEndpointConfigPost",
      method,
      path: "/endpointConfigs/{uid}/canDeploy",
      summary: `Check whether an endpoint capping config can be deployed (${method.toUpperCase()})`,
      description:
        "Re-validates the stored config. `validationStatus` is `error` when anything below blocks a deploy; " +
        "`errors` lists every one:\n\n" +
        `${CAN_DEPLOY_CODES}\n\n` +
        "`warnings` does not block a deploy: `ERR_ENDPOINTCONFIG_106` (scoped to the service and url) for each " +
        "service without `maxHttpConnections`, and `RUNTIME_NO_WORKER` when no runtime worker is alive (calls would " +
        "queue until one starts). GET and POST are equivalent.",
      success: {
        status: 200,
        response: jsonResponse("The validation report.", endpointConfigCanDeployResponse, {
          ok: example("Deployable", { canDeploy: { validationStatus: "ok" } }),
          warned: example("Deployable, with no cap on connections", { canDeploy: uncappedReport }),
          incomplete: example("Adobe's collection's config: no url, no method", { canDeploy: incompleteReport }),
          broken: example("Several problems at once, and the warnings", { canDeploy: brokenReport }),
        }),
      },
      async handle({ service }, req, res) {
        res.json({ canDeploy: await service.canDeploy(caller(res).principal.orgId, uidOf(req)) });
      },
    }),
  ),
  {
    operationId: "deleteEndpointConfig",
    method: "delete",
    path: "/endpointConfigs/{uid}",
    summary: "Delete an endpoint capping config",
    description:
      "A deployed config (`hasBeenDeployed`) is only deleted with `forceDelete=true`, which undeploys it in the same call.",
    extraParameters: [parameterRef("EndpointConfigForceDelete")],
    success: { status: 200, response: jsonResponse("Deleted.", deleteResponse, { deleted: example("Deleted", {}) }) },
    rejects: ["ENDPOINT_CONFIG_DELETE_FORBIDDEN"],
    failsWith: "ENDPOINT_CONFIG_DELETE_FAILED",
    async handle({ service }, req, res) {
      await service.remove(caller(res).principal, uidOf(req), forceDeleteOf(req));
      res.json({});
    },
  },
  {
    operationId: "deployEndpointConfig",
    method: "post",
    path: "/endpointConfigs/{uid}/deploy",
    summary: "Deploy an endpoint capping config",
    description:
      "The config's runtime takes its values (its url, methods and each service's limits) and caps matching calls " +
      "from now on; the state becomes `deployed` and `deployedConfig` holds the values. Deploying it again applies " +
      "its current values. A config whose canDeploy reports errors is refused with them (`ERR_ENDPOINTCONFIG_NOT_VALID`).",
    success: { status: 204, response: noContentResponse("Deployed.") },
    rejects: ["ENDPOINT_CONFIG_NOT_VALID"],
    failsWith: "ENDPOINT_CONFIG_DEPLOY_FAILED",
    async handle({ service }, req, res) {
      await service.deploy(caller(res).principal, uidOf(req));
      res.end();
    },
  },
  {
    operationId: "undeployEndpointConfig",
    method: "post",
    path: "/endpointConfigs/{uid}/undeploy",
    summary: "Undeploy an endpoint capping config",
    description:
      "The runtime stops matching new calls and drains its queue for 24 h; the state goes back to `created` or " +
      "`updated` (whether it was ever updated), `hasBeenDeployed` becomes false and `deployedConfig` goes. A config " +
      "that is not deployed answers 204 too, unchanged.",
    success: { status: 204, response: noContentResponse("Undeployed, or not deployed.") },
    failsWith: "ENDPOINT_CONFIG_UNDEPLOY_FAILED",
    async handle({ service }, req, res) {
      await service.undeploy(caller(res).principal, uidOf(req));
      res.end();
    },
  },
];
