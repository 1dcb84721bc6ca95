import { issuesContext, payloadRejection } from "../authoring/can-deploy.js";
import type { ApiError } from "../shared/errors/api-error.js";
import { ERRORS, type ErrorName } from "../shared/errors/catalogue.js";
import { endpointConfigInput, type EndpointConfigValues } from "./capping-config.schema.js";

/** 400 with `canDeploy` naming the one rule the payload's structure breaks (CONTRACT §12). */
const refused = (name: ErrorName, context: string): ApiError => payloadRejection([{ name, message: ERRORS[name].message }], context);

export const malformedJson = (detail: string): ApiError => refused("ENDPOINT_CONFIG_NOT_JSON", `malformed JSON: ${detail}`);

const kindOf = (body: unknown): string =>
  body === undefined ? "missing" : body === null ? "null" : Array.isArray(body) ? "an array" : `a ${typeof body}`;

/**
 * A payload's values as they are stored: refused only when it is not a JSON object (112) or a field has the wrong
 * type (111); every other problem is stored and reported by canDeploy. `orgId` is ignored.
 */
export function endpointConfigValues(body: unknown): EndpointConfigValues {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw refused("ENDPOINT_CONFIG_NOT_JSON", `the body is ${kindOf(body)}, not a JSON object`);
  }
  const parsed = endpointConfigInput.safeParse(body);
  if (!parsed.success) throw refused("ENDPOINT_CONFIG_INVALID_PAYLOAD", issuesContext(parsed.error.issues));
  const { url, methods, services } = parsed.data;
  return { url, methods, services };
}
