import type { OpenAPIRegistry } from "@asteasolutions/zod-to-openapi";
import { z } from "zod";
import { THROTTLING_OPERATIONS } from "../throttling/throttling-config.operations.js";
import { registerAuthoringOperations } from "./authoring-paths.js";
import { errorEnvelope, validationErrorEnvelope } from "./error-envelope.schema.js";
import { validationErrorCases } from "./error-examples.js";
import { EXAMPLE_UID } from "./examples.js";

export const AUTHORING_TAG = "Throttling configs";

/** The Throttling API's operations (CONTRACT §1–5). */
export function registerAuthoringPaths(registry: OpenAPIRegistry): void {
  registerAuthoringOperations(registry, {
    tag: AUTHORING_TAG,
    operations: THROTTLING_OPERATIONS,
    uidParameter: "Uid",
    exampleUid: EXAMPLE_UID,
    notFound: "NOT_FOUND",
    payloadErrors: validationErrorCases,
    badRequest: (operation) =>
      operation.validatesPayload
        ? {
            schema: z.union([validationErrorEnvelope, errorEnvelope]),
            headline:
              "The request was rejected. An invalid payload (`ERR_THROTTLING_CONFIG_*`) also gets `canDeploy`, " +
              "which lists every violated rule.",
          }
        : {},
  });
}
