import { readFileSync } from "node:fs";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import type supertest from "supertest";
import { parse } from "yaml";
import { OPENAPI_PATH } from "../../src/http/docs.js";

// Validates real responses against the checked-in openapi.yaml (what /docs serves).

// The parts of the document read here and in tests.
export interface MediaTypeSpec {
  schema?: unknown;
  examples?: Record<string, { value?: unknown }>;
}
interface HeaderSpec {
  $ref?: string;
  required?: boolean;
}
export interface ResponseSpec {
  $ref?: string;
  headers?: Record<string, HeaderSpec>;
  content?: Record<string, MediaTypeSpec>;
}
interface OperationSpec {
  requestBody?: { content?: Record<string, MediaTypeSpec> };
  responses: Record<string, ResponseSpec>;
}
export interface OpenApiSpec {
  paths: Record<string, Record<string, OperationSpec>>;
  components: { responses?: Record<string, ResponseSpec>; headers?: Record<string, HeaderSpec> };
}

const DOCUMENT_ID = "https://sluice.local/openapi.json";

export const spec = parse(readFileSync(OPENAPI_PATH, "utf8")) as OpenApiSpec;

const ajv = new Ajv2020({ allErrors: true, strict: true });
// OpenAPI's own schema keyword, and the document's top-level members (the root itself is not a schema).
ajv.addVocabulary(["example", ...Object.keys(spec)]);
addFormatsModule.default(ajv);
ajv.addSchema(spec, DOCUMENT_ID);

const compiled = new Map<string, ValidateFunction>();

/** A `$ref`-able pointer into the document, e.g. `["paths", "/throttlingConfigs", "post"]`. */
export const pointerTo = (segments: readonly string[]): string =>
  "#/" + segments.map((segment) => encodeURIComponent(segment.replace(/~/g, "~0").replace(/\//g, "~1"))).join("/");

/** Validation problems (empty when valid) of `value`, called `label`, against the schema at `segments`. */
export function schemaErrors(segments: readonly string[], value: unknown, label = "body"): string[] {
  const ref = DOCUMENT_ID + pointerTo(segments);
  let validate = compiled.get(ref);
  if (!validate) {
    validate = ajv.compile({ $ref: ref });
    compiled.set(ref, validate);
  }
  if (validate(value)) return [];
  return (validate.errors ?? []).map((error) => `${label}${error.instancePath} ${error.message ?? "is invalid"}`);
}

/** The documented response for a status, and where it lives (shared responses are `$ref`s into components). */
function documentedResponse(operation: OperationSpec, segments: string[], status: number) {
  const response = operation.responses[String(status)];
  if (!response) return undefined;
  if (!response.$ref) return { response, segments: [...segments, "responses", String(status)] };
  const name = response.$ref.replace("#/components/responses/", "");
  const shared = spec.components.responses?.[name];
  return shared && { response: shared, segments: ["components", "responses", name] };
}

function headerIsRequired(header: HeaderSpec): boolean {
  const resolved = header.$ref ? spec.components.headers?.[header.$ref.replace("#/components/headers/", "")] : header;
  return resolved?.required === true;
}

/** Every way `response` differs from what openapi.yaml documents for `method` `path`. */
export function specMismatches(response: supertest.Response, method: string, path: string): string[] {
  const operationSegments = ["paths", path, method.toLowerCase()];
  const operation = spec.paths[path]?.[method.toLowerCase()];
  if (!operation) return [`${method.toUpperCase()} ${path} is not documented`];
  const documented = documentedResponse(operation, operationSegments, response.status);
  if (!documented) {
    return [`no ${response.status} response is documented (documented: ${Object.keys(operation.responses).join(", ")})`];
  }

  const problems = Object.entries(documented.response.headers ?? {})
    .filter(([name, header]) => headerIsRequired(header) && response.get(name) === undefined)
    .map(([name]) => `missing header ${name}`);

  const content = documented.response.content;
  if (!content) {
    if (response.text) problems.push(`expected no body, got ${JSON.stringify(response.text.slice(0, 200))}`);
    return problems;
  }
  const [mediaType = ""] = (response.get("content-type") ?? "").split(";");
  if (!content[mediaType]) return [...problems, `content-type "${mediaType}" is not one of ${Object.keys(content).join(", ")}`];
  if (mediaType !== "application/json") return problems;

  const body: unknown = response.body;
  problems.push(...schemaErrors([...documented.segments, "content", mediaType, "schema"], body));
  // The envelope's `error` is a JSON string: decode it and check it too.
  const error = (body as { error?: unknown } | null)?.error;
  if (response.status >= 400 && typeof error === "string") {
    try {
      problems.push(...schemaErrors(["components", "schemas", "ErrorDetail"], JSON.parse(error), "error (decoded)"));
    } catch {
      problems.push(`error is not a JSON string: ${error}`);
    }
  }
  return problems;
}

/**
 * Asserts that a real response is what openapi.yaml documents: the status is listed for the operation, required
 * headers are present, the content type is documented, and a JSON body (plus the JSON string inside an error
 * envelope) validates against the response schema.
 *
 * @param path as documented, relative to the base path for the authoring API: `/throttlingConfigs/{uid}`, `/healthz`
 * @example expectMatchesSpec(await request.get(`/authoring/throttlingConfigs/${uid}`).set(headers), "GET", "/throttlingConfigs/{uid}");
 */
export function expectMatchesSpec(response: supertest.Response, method: string, path: string): void {
  const problems = specMismatches(response, method, path);
  if (problems.length === 0) return;
  const body: unknown = response.body;
  const shown = body && typeof body === "object" && Object.keys(body).length ? JSON.stringify(body) : response.text;
  throw new Error(
    `${method.toUpperCase()} ${path} answered ${response.status}, which does not match openapi.yaml:\n` +
      problems.map((problem) => `  - ${problem}`).join("\n") +
      `\nbody: ${(shown ?? "").slice(0, 2000)}`,
  );
}
