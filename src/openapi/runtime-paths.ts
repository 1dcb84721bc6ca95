import type { OpenAPIRegistry } from "@asteasolutions/zod-to-openapi";
import { CALL_OPERATIONS, RUNTIME_BASE_PATH } from "../runtime/accept/call.operations.js";
import { withApiLimits } from "./api-limits.js";
import { EXAMPLE_CALL_ID } from "./runtime-examples.js";

export const RUNTIME_TAG = "Runtime calls";

/** The call API (CONTRACT §6, §7, §10), at the service root rather than under an authoring base path. */
export function registerRuntimePaths(registry: OpenAPIRegistry): void {
  for (const operation of CALL_OPERATIONS) {
    registry.registerPath({
      method: operation.method,
      path: RUNTIME_BASE_PATH + operation.path,
      operationId: operation.operationId,
      summary: operation.summary,
      description: operation.description,
      ...(operation.body || operation.query
        ? { request: { ...(operation.body ? { body: operation.body } : {}), ...(operation.query ? { query: operation.query } : {}) } }
        : {}),
      parameters: [...(operation.parameters ?? [])],
      responses: withApiLimits({ [operation.success.status]: operation.success.response, ...operation.errors }, "runtime", {
        method: operation.method.toUpperCase(),
        path: RUNTIME_BASE_PATH + operation.path.replace("{callId}", EXAMPLE_CALL_ID),
      }),
      tags: [RUNTIME_TAG],
      servers: [{ url: "/", description: "The service root." }],
    });
  }
}
