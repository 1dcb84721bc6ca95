import { OpenAPIRegistry, OpenApiGeneratorV31 } from "@asteasolutions/zod-to-openapi";
import { ERRORS } from "../shared/errors/catalogue.js";
import { RUNTIME_BASE_PATH } from "../runtime/accept/call.operations.js";
import { AUTHORING_BASE_PATHS } from "../authoring/base-paths.js";
import { CAPPING_TAG, registerCappingPaths } from "./capping-paths.js";
import { CREDENTIAL_SECURITY, RESPONSE_HEADERS, registerComponents } from "./components.js";
import { errorDetail } from "./error-envelope.schema.js";
import { examplesOf } from "./error-examples.js";
import { knownError } from "./responses.js";
import { EXAMPLE_BASE_PATH, SERVICE_VERSION } from "./examples.js";
import { OPERATIONS_TAG, registerOperationsPaths } from "./operations-paths.js";
import { RUNTIME_TAG, registerRuntimePaths } from "./runtime-paths.js";
import { AUTHORING_TAG, registerAuthoringPaths } from "./throttling-paths.js";

export type OpenApiDocument = ReturnType<OpenApiGeneratorV31["generateDocument"]>;

const catalogueTable = [
  "| code | HTTP | family | message |",
  "| --- | --- | --- | --- |",
  ...Object.values(ERRORS).map(({ code, status, family, message }) => `| \`${code}\` | ${status} | ${family} | ${message} |`),
].join("\n");

const DESCRIPTION = `A self-hosted, Throttling-API-compatible authoring API for throttling configurations, and the \
runtime call API that sends outbound calls at the rate a deployed configuration allows. The same base paths also serve \
the Capping API (\`endpointConfigs\`).

**Base paths.** The authoring API answers on both \`${AUTHORING_BASE_PATHS.join("` and `")}\` (the \`basePath\` server \
variable); its paths below are relative to it. The call API (\`${RUNTIME_BASE_PATH}/...\`) and the operational routes are \
at the service root. Repeated slashes are collapsed, so \`{{JO_HOST}}/{{BASE_PATH}}/...\` works.

**Credentials.** Every authoring request sends \`Authorization: Bearer <token>\`, \`x-api-key: <client id>\`, \
\`x-gw-ims-org-id\` and \`x-sandbox-name\` (a production sandbox of the organization). The call API takes the same \
headers; \`x-sandbox-name\` is optional there.

**API limits.** Each organization has a ceiling of requests per minute for the throttling and capping configs \
(\`authoring\`) and one for the call API (\`runtime\`), set by its plan, in a sliding 60-second window; a batch \
counts once. Every response to an authenticated request says where it stands: \`X-RateLimit-Limit\`, \
\`X-RateLimit-Remaining\`, \`X-RateLimit-Reset\` (Unix seconds), \`RateLimit-Policy\` and \`RateLimit\`. Past the \
ceiling, or after too many failed authentications from one client address, the answer is 429 (\`ERR_RATE_LIMITED\`) \
with \`Retry-After\`. The operational routes are not limited.

**Errors.** An error answers \`{ status, error, requestId }\` where \`error\` is a JSON *string* (see \`ErrorDetail\`). \
Codes:

${catalogueTable}`;

/** Builds the OpenAPI 3.1 document from the zod schemas, the error catalogue and the route table. */
export function buildOpenApiDocument(): OpenApiDocument {
  const registry = new OpenAPIRegistry();
  registerComponents(registry);
  registry.registerComponent("responses", "RouteNotFound", {
    description:
      "Any path or method not in this document. Under an authoring base path or `/runtime`, the credentials are checked first.",
    headers: RESPONSE_HEADERS,
    content: {
      "application/json": {
        schema: { $ref: "#/components/schemas/ErrorEnvelope" },
        examples: examplesOf([knownError("ROUTE_NOT_FOUND", { method: "GET", path: `${EXAMPLE_BASE_PATH}/throttlingConfigs` })]),
      },
    },
  });
  registerAuthoringPaths(registry);
  registerCappingPaths(registry);
  registerRuntimePaths(registry);
  registerOperationsPaths(registry);

  // ErrorDetail is only referenced from a string's `contentSchema`, so it is registered explicitly.
  const generator = new OpenApiGeneratorV31([...registry.definitions, { type: "schema", schema: errorDetail }], {
    sortComponents: "alphabetically",
  });
  return generator.generateDocument({
    openapi: "3.1.0",
    info: { title: "Sluice API", version: SERVICE_VERSION, description: DESCRIPTION },
    servers: [
      {
        url: "{basePath}",
        description: "The authoring API, relative to the service's host.",
        variables: {
          basePath: {
            default: EXAMPLE_BASE_PATH,
            enum: [...AUTHORING_BASE_PATHS],
            description: "`/authoring` is the Throttling API's `BASE_PATH`; `/journey/orchestration` is Adobe's current one.",
          },
        },
      },
    ],
    security: CREDENTIAL_SECURITY,
    tags: [
      { name: AUTHORING_TAG, description: "The Throttling API (`throttlingConfigs`)." },
      {
        name: CAPPING_TAG,
        description:
          "The Capping API (`endpointConfigs`): per endpoint, at most `maxCallsCount` calls in any sliding `periodInMs` " +
          "and at most `maxHttpConnections` in flight, per service (`action`, `dataSource`). Many configs per organization.",
      },
      { name: RUNTIME_TAG, description: "Outbound calls, queued and sent at the deployed config's rate." },
      { name: OPERATIONS_TAG, description: "Health, metrics and documentation, at the service root." },
    ],
  });
}
