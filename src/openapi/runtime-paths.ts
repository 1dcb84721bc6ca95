import type { OpenAPIRegistry } from "@asteasolutions/zod-to-openapi";
import { CALL_OPERATIONS, RUNTIME_BASE_PATH } from "../runtime/accept/call.operations.js";

export const RUNTIME_TAG = "Runtime calls";

/** The call API (CONTRACT §6, §10), at the service root rather than under an authoring base path. */
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
      responses: { [operation.success.status]: operation.success.response, ...operation.errors },
      tags: [RUNTIME_TAG],
      servers: [{ url: "/", description: "The service root." }],
    });
  }
}
