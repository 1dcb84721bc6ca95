import type { OpenAPIRegistry } from "@asteasolutions/zod-to-openapi";
import { z } from "zod";
import { CAPPING_OPERATIONS } from "../capping/capping-config.operations.js";
import { registerAuthoringOperations } from "./authoring-paths.js";
import { endpointConfigPayloadErrors, undeployableCase } from "./capping-examples.js";
import { endpointConfigErrorEnvelope, errorEnvelope } from "./error-envelope.schema.js";
import { EXAMPLE_ENDPOINT_CONFIG_UID } from "./examples.js";

export const CAPPING_TAG = "Capping API (`endpointConfigs`)";

/** The Capping API's operations (CONTRACT §12). */
export function registerCappingPaths(registry: OpenAPIRegistry): void {
  registerAuthoringOperations(registry, {
    tag: CAPPING_TAG,
    operations: CAPPING_OPERATIONS,
    uidParameter: "EndpointConfigUid",
    exampleUid: EXAMPLE_ENDPOINT_CONFIG_UID,
    notFound: "ENDPOINT_CONFIG_NOT_FOUND",
    notFoundHeadline: "No endpoint capping config with this uid in the organization.",
    payloadErrors: endpointConfigPayloadErrors,
    badRequest: (operation) => {
      const schema = z.union([endpointConfigErrorEnvelope, errorEnvelope]);
      if (operation.validatesPayload) {
        return {
          schema,
          headline:
            "The request was rejected. A payload refused for its structure (`ERR_ENDPOINTCONFIG_112`, `_111`) also gets " +
            "`canDeploy`, naming the rule; nothing is stored.",
        };
      }
      if (operation.rejects?.includes("ENDPOINT_CONFIG_NOT_VALID")) {
        return { schema, headline: "The request was rejected. A config with problems also gets `canDeploy`, which lists them." };
      }
      return {};
    },
    rejection: (name, request) => (name === "ENDPOINT_CONFIG_NOT_VALID" ? undeployableCase(request) : undefined),
  });
}
