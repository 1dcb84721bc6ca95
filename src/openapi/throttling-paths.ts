import type { OpenAPIRegistry, ResponseConfig } from "@asteasolutions/zod-to-openapi";
import { z } from "zod";
import { parameterRef } from "./components.js";
import { errorEnvelope, validationErrorEnvelope } from "./error-envelope.schema.js";
import { validationErrorCases, type ExampleRequest } from "./error-examples.js";
import { EXAMPLE_BASE_PATH, EXAMPLE_DEV_SANDBOX, EXAMPLE_SANDBOX, EXAMPLE_UID, EXAMPLE_UNKNOWN_SANDBOX } from "./examples.js";
import { errorResponse, knownError, type ErrorStatus } from "./responses.js";
import type { OperationDoc } from "../http/operation.js";
import { THROTTLING_OPERATIONS } from "../throttling/throttling-config.operations.js";

export const AUTHORING_TAG = "Throttling configs";

const byUid = (operation: OperationDoc) => operation.path.includes("{uid}");

/** Every error CONTRACT §2 and §5 give for `operation`, with examples for the seed's base path. */
function errorResponses(operation: OperationDoc): Partial<Record<ErrorStatus, ResponseConfig>> {
  const path = EXAMPLE_BASE_PATH + operation.path.replace("{uid}", EXAMPLE_UID);
  const request = (sandbox?: string): ExampleRequest => ({ method: operation.method.toUpperCase(), path, sandbox });
  const prod = request(EXAMPLE_SANDBOX.name);
  const badRequest = [
    knownError("SANDBOX_REQUIRED", request()),
    knownError("NON_PROD_SANDBOX", request(EXAMPLE_DEV_SANDBOX)),
    ...(operation.rejects ?? []).map((name) => knownError(name, prod)),
    ...(operation.validatesPayload ? validationErrorCases(prod) : []),
  ];
  const unexpected = [
    knownError("INTERNAL", request(EXAMPLE_UNKNOWN_SANDBOX), { context: `unknown sandbox "${EXAMPLE_UNKNOWN_SANDBOX}"` }),
    ...(operation.failsWith ? [knownError(operation.failsWith, prod)] : []),
  ];
  return {
    400: errorResponse(
      400,
      badRequest,
      operation.validatesPayload
        ? {
            schema: z.union([validationErrorEnvelope, errorEnvelope]),
            headline:
              "The request was rejected. An invalid payload (`ERR_THROTTLING_CONFIG_*`) also gets `canDeploy`, " +
              "which lists every violated rule.",
          }
        : {},
    ),
    401: errorResponse(401, [knownError("UNAUTHORIZED", prod)]),
    403: errorResponse(403, [knownError("ORG_MISMATCH", prod)]),
    ...(byUid(operation)
      ? { 404: errorResponse(404, [knownError("NOT_FOUND", prod, { context: `uid ${EXAMPLE_UID}` })]) }
      : {}),
    413: errorResponse(413, [knownError("PAYLOAD_TOO_LARGE", prod)]),
    415: errorResponse(415, [knownError("UNSUPPORTED_MEDIA_TYPE", prod)]),
    500: errorResponse(500, unexpected),
    503: errorResponse(503, [knownError("DEPENDENCY_UNAVAILABLE", prod)]),
  };
}

/** The authoring operations, served under each base path of `servers`. */
export function registerAuthoringPaths(registry: OpenAPIRegistry): void {
  for (const operation of THROTTLING_OPERATIONS) {
    registry.registerPath({
      method: operation.method,
      path: operation.path,
      operationId: operation.operationId,
      summary: operation.summary,
      description: operation.description,
      tags: [AUTHORING_TAG],
      parameters: [
        ...(byUid(operation) ? [parameterRef("Uid")] : []),
        ...(operation.extraParameters ?? []),
        parameterRef("OrgId"),
        parameterRef("SandboxName"),
        parameterRef("RequestId"),
      ],
      ...(operation.body ? { request: { body: operation.body } } : {}),
      responses: { [operation.success.status]: operation.success.response, ...errorResponses(operation) },
    });
  }
}
