import { readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { compileErrors, validate } from "@readme/openapi-parser";
import type { Router } from "express";
import type supertest from "supertest";
import { describe, expect, it } from "vitest";
import { CONSOLE_BASE_PATH } from "../../src/console/console.routes.js";
import { ADMIN_BASE_PATH } from "../../src/http/admin.js";
import { docsRouter, OPENAPI_PATH } from "../../src/http/docs.js";
import { healthRouter } from "../../src/http/health.js";
import { createMetrics } from "../../src/http/metrics.js";
import { OPERATIONS_TAG } from "../../src/openapi/operations-paths.js";
import { RUNTIME_TAG } from "../../src/openapi/runtime-paths.js";
import { CAPPING_TAG } from "../../src/openapi/capping-paths.js";
import { AUTHORING_TAG } from "../../src/openapi/throttling-paths.js";
import { renderOpenApiYaml } from "../../src/openapi/write.js";
import { RUNTIME_BASE_PATH } from "../../src/runtime/accept/call.operations.js";
import { callRouter } from "../../src/runtime/accept/call.routes.js";
import { ERRORS, type ErrorName } from "../../src/shared/errors/catalogue.js";
import { createLogger } from "../../src/shared/logger.js";
import { AUTHORING_BASE_PATHS } from "../../src/authoring/base-paths.js";
import { throttlingConfigRouter } from "../../src/throttling/throttling-config.routes.js";
import { cappingConfigRouter } from "../../src/capping/capping-config.routes.js";
import { expectMatchesSpec, schemaErrors, spec, type MediaTypeSpec } from "../support/openapi.js";
import { useTestApp } from "../support/test-app.js";

/** "METHOD /path" of every documented operation tagged `tag`. */
const documented = (tag: string) =>
  Object.entries(spec.paths).flatMap(([path, operations]) =>
    Object.entries(operations)
      .filter(([, operation]) => (operation as { tags?: string[] }).tags?.includes(tag))
      .map(([method]) => `${method.toUpperCase()} ${path}`),
  );
/** Relative to the authoring base paths: the throttling API, then the capping API. */
const documentedThrottling = documented(AUTHORING_TAG);
const documentedCapping = documented(CAPPING_TAG);
const documentedAuthoring = [...documentedThrottling, ...documentedCapping];
/** At the service root, like the operational routes. */
const documentedRuntime = documented(RUNTIME_TAG);
const documentedOperations = documented(OPERATIONS_TAG);
/** The entry pages of Bull Board and the console: sub-apps of their own (not route tables), mounted only when ADMIN_TOKEN is set. */
const ADMIN_ROUTES = [`GET ${ADMIN_BASE_PATH}`, `GET ${CONSOLE_BASE_PATH}`];

const splitRoute = (route: string) => {
  const [method = "", path = ""] = route.split(" ");
  return { method, path };
};

/** "METHOD /path" of every route a router registers, in OpenAPI's path syntax. */
function registeredRoutes(router: Router): string[] {
  return router.stack.flatMap((layer) => {
    if (!layer.route) return [];
    const paths: string[] = [layer.route.path].flat();
    const methods = new Set(layer.route.stack.map((handler) => handler.method.toUpperCase()));
    return paths.flatMap((path) => [...methods].map((method) => `${method} ${path.replace(/:(\w+)/g, "{$1}")}`));
  });
}

interface DocumentedExample {
  where: string;
  status: number | undefined;
  schema: string[];
  value: unknown;
}

/** Every JSON example in the document (request bodies, operation responses, shared responses) and its schema. */
function jsonExamples(): DocumentedExample[] {
  const fromContent = (where: string, status: number | undefined, at: string[], content?: Record<string, MediaTypeSpec>) =>
    Object.entries(content?.["application/json"]?.examples ?? {}).map(
      ([name, example]): DocumentedExample => ({
        where: `${where} (${name})`,
        status,
        schema: [...at, "content", "application/json", "schema"],
        value: example.value,
      }),
    );
  const operations = Object.entries(spec.paths).flatMap(([path, methods]) =>
    Object.entries(methods).flatMap(([method, operation]) => {
      const at = ["paths", path, method];
      const where = `${method.toUpperCase()} ${path}`;
      return [
        ...fromContent(`${where} request`, undefined, [...at, "requestBody"], operation.requestBody?.content),
        ...Object.entries(operation.responses).flatMap(([status, response]) =>
          fromContent(`${where} ${status}`, Number(status), [...at, "responses", status], response.content),
        ),
      ];
    }),
  );
  // A shared response has no status of its own: its (error) examples state theirs.
  const shared = Object.entries(spec.components.responses ?? {}).flatMap(([name, response]) =>
    fromContent(`components.responses.${name}`, undefined, ["components", "responses", name], response.content).map(
      (example) => ({ ...example, status: (example.value as { status?: number }).status }),
    ),
  );
  return [...operations, ...shared];
}

/** Error examples, decoded: which code each documented (status, operation) answers with. */
const errorExamples = () =>
  jsonExamples().flatMap(({ where, status, value }) => {
    const error = (value as { error?: unknown }).error;
    if (status === undefined || status < 400 || typeof error !== "string") return [];
    return [{ where, status, body: value as { status: number }, detail: JSON.parse(error) as { code: number | string } }];
  });

describe("openapi.yaml", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    expect(spec).toMatchObject({ openapi: "3.1.0" });
    const result = await validate(structuredClone(spec) as never);
    expect(result.valid, result.valid ? "" : compileErrors(result)).toBe(true);
    expect(result.specification).toBe("OpenAPI");
  });

  it("is what src/openapi/document.ts generates now", () => {
    expect(readFileSync(OPENAPI_PATH, "utf8"), "openapi.yaml is out of date: run npm run openapi").toBe(renderOpenApiYaml());
  });

  it("generates the same YAML every time", () => {
    expect(renderOpenApiYaml()).toBe(renderOpenApiYaml());
  });

  it("has every example validate against its schema, error strings included", () => {
    const examples = jsonExamples();
    expect(examples.length).toBeGreaterThan(50);
    const problems = examples.flatMap(({ where, schema, value }) => schemaErrors(schema, value).map((problem) => `${where}: ${problem}`));
    const errors = errorExamples();
    problems.push(
      ...errors.flatMap(({ where, detail }) =>
        schemaErrors(["components", "schemas", "ErrorDetail"], detail, "error (decoded)").map((problem) => `${where}: ${problem}`),
      ),
      ...errors.filter(({ status, body }) => body.status !== status).map(({ where, body }) => `${where}: body says status ${body.status}`),
    );
    expect(problems).toEqual([]);
  });

  it("shows every code of the error catalogue in an example with the catalogue's HTTP status", () => {
    const shown = errorExamples();
    for (const { where, status, detail } of shown) {
      const definition = Object.values(ERRORS).find(({ code }) => code === detail.code);
      expect(definition?.status, `${where}: ${detail.code}`).toBe(status);
    }
    const missing = Object.entries(ERRORS)
      .filter(([, { code }]) => !shown.some(({ detail }) => detail.code === code))
      .map(([name, { code }]) => `${name} (${code})`);
    expect(missing, "catalogue codes with no documented example").toEqual([]);
  });

  it("places only the authoring operations under the base paths; the call API and operational routes are at the root", () => {
    const placement = Object.entries(spec.paths).flatMap(([path, operations]) =>
      Object.entries(operations).map(([method, operation]) => {
        const { tags = [], servers } = operation as { tags?: string[]; servers?: { url: string }[] };
        return { route: `${method.toUpperCase()} ${path}`, tags, servers: servers?.map((server) => server.url) };
      }),
    );
    for (const { route, tags, servers } of placement) {
      expect(tags, route).toHaveLength(1);
      if (tags[0] === AUTHORING_TAG || tags[0] === CAPPING_TAG) expect(servers, route).toBeUndefined();
      else expect(servers, route).toEqual(["/"]);
    }
    expect(documentedRuntime.every((route) => splitRoute(route).path.startsWith(`${RUNTIME_BASE_PATH}/`))).toBe(true);
    expect(placement).toHaveLength(documentedAuthoring.length + documentedRuntime.length + documentedOperations.length);
  });

  describe("documents, for each operation, the errors CONTRACT §2, §5 and §6 give it", () => {
    const validation: ErrorName[] = [
      "CONFIG_ATTRIBUTE_REQUIRED",
      "CONFIG_MAX_THROUGHPUT",
      "CONFIG_MALFORMED_URL_PATTERN",
      "CONFIG_WILDCARD_IN_HOST",
      "CONFIG_INVALID_PAYLOAD",
    ];
    const credentials: ErrorName[] = ["UNAUTHORIZED", "ORG_MISMATCH", "INTERNAL", "DEPENDENCY_UNAVAILABLE"];
    const generic: ErrorName[] = [
      ...credentials,
      "SANDBOX_REQUIRED",
      "NON_PROD_SANDBOX",
      "PAYLOAD_TOO_LARGE",
      "UNSUPPORTED_MEDIA_TYPE",
    ];
    const byUid: ErrorName[] = [...generic, "NOT_FOUND"];
    const endpointConfigPayload: ErrorName[] = ["ENDPOINT_CONFIG_NOT_JSON", "ENDPOINT_CONFIG_INVALID_PAYLOAD", "ENDPOINT_CONFIG_DUPLICATE"];
    const endpointConfigByUid: ErrorName[] = [...generic, "ENDPOINT_CONFIG_NOT_FOUND"];
    const submission: ErrorName[] = [
      ...credentials,
      "CALL_INVALID",
      "IDEMPOTENCY_MISMATCH",
      "PAYLOAD_TOO_LARGE",
      "UNSUPPORTED_MEDIA_TYPE",
      "QUEUE_FULL",
    ];
    const expected: Record<string, ErrorName[]> = {
      "POST /list/throttlingConfigs": generic,
      "POST /throttlingConfigs": [...generic, "CREATE_LIMIT", "CREATE_FAILED", ...validation],
      "GET /throttlingConfigs/{uid}": [...byUid, "GET_FAILED"],
      "PUT /throttlingConfigs/{uid}": [...byUid, "UPDATE_NOT_ACTIVE", "UPDATE_FAILED", ...validation],
      "GET /throttlingConfigs/{uid}/canDeploy": byUid,
      "POST /throttlingConfigs/{uid}/canDeploy": byUid,
      "POST /throttlingConfigs/{uid}/deploy": [...byUid, "ALREADY_DEPLOYED", "DEPLOY_FAILED"],
      "POST /throttlingConfigs/{uid}/undeploy": [...byUid, "NOT_DEPLOYED", "UNDEPLOY_FAILED"],
      "DELETE /throttlingConfigs/{uid}": [...byUid, "DELETE_FORBIDDEN", "DELETE_FAILED"],
      "POST /list/endpointConfigs": generic,
      "POST /endpointConfigs": [...generic, "ENDPOINT_CONFIG_CREATE_FAILED", ...endpointConfigPayload],
      "GET /endpointConfigs/{uid}": [...endpointConfigByUid, "ENDPOINT_CONFIG_GET_FAILED"],
      "PUT /endpointConfigs/{uid}": [...endpointConfigByUid, "ENDPOINT_CONFIG_UPDATE_FAILED", ...endpointConfigPayload],
      "GET /endpointConfigs/{uid}/canDeploy": endpointConfigByUid,
      "POST /endpointConfigs/{uid}/canDeploy": endpointConfigByUid,
      "POST /endpointConfigs/{uid}/deploy": [...endpointConfigByUid, "ENDPOINT_CONFIG_NOT_VALID", "ENDPOINT_CONFIG_DEPLOY_FAILED"],
      "POST /endpointConfigs/{uid}/undeploy": [...endpointConfigByUid, "ENDPOINT_CONFIG_UNDEPLOY_FAILED"],
      "DELETE /endpointConfigs/{uid}": [...endpointConfigByUid, "ENDPOINT_CONFIG_DELETE_FORBIDDEN", "ENDPOINT_CONFIG_DELETE_FAILED"],
      [`POST ${RUNTIME_BASE_PATH}/calls`]: submission,
      [`POST ${RUNTIME_BASE_PATH}/calls/batch`]: submission,
      [`GET ${RUNTIME_BASE_PATH}/calls`]: [...credentials, "CALL_INVALID"],
      [`GET ${RUNTIME_BASE_PATH}/calls/{callId}`]: [...credentials, "CALL_NOT_FOUND"],
      [`POST ${RUNTIME_BASE_PATH}/calls/{callId}/replay`]: [...credentials, "CALL_NOT_FOUND", "CALL_NOT_REPLAYABLE", "QUEUE_FULL"],
    };

    it("covers exactly the authoring and call API operations", () => {
      expect([...documentedAuthoring, ...documentedRuntime].sort()).toEqual(Object.keys(expected).sort());
    });

    it.each(Object.entries(expected))("%s", (route, names) => {
      const shown = errorExamples().filter(({ where }) => where.startsWith(`${route} `));
      const missing = names.filter((name) => !shown.some(({ detail }) => detail.code === ERRORS[name].code));
      expect(missing).toEqual([]);
      const { method, path } = splitRoute(route);
      const responses = spec.paths[path]?.[method.toLowerCase()]?.responses ?? {};
      // Whoever is told to come back later is told when.
      for (const status of ["429", "503"].filter((status) => status in responses)) {
        expect(responses[status]?.headers, `${route} ${status}`).toHaveProperty("Retry-After");
      }
      expect(responses).toHaveProperty("503");
    });

    it("documents the extra `errors` list of a rejected call API request", () => {
      const invalidCalls = errorExamples().filter(({ detail }) => detail.code === ERRORS.CALL_INVALID.code);
      const withErrors = invalidCalls.filter(({ body }) => Array.isArray((body as { errors?: unknown }).errors));
      expect(withErrors.map(({ where }) => where.split(" ")[1])).toEqual(
        expect.arrayContaining([`${RUNTIME_BASE_PATH}/calls`, `${RUNTIME_BASE_PATH}/calls/batch`]),
      );
    });
  });
});

describe("routes", () => {
  // Only the route table is read: the handlers (and so the absent db and services) never run.
  const unused = undefined as never;

  it("documents every route the authoring routers register, and nothing else", () => {
    expect(registeredRoutes(throttlingConfigRouter(unused, unused, unused)).sort()).toEqual([...documentedThrottling].sort());
    expect(registeredRoutes(cappingConfigRouter(unused, unused, unused)).sort()).toEqual([...documentedCapping].sort());
  });

  it("documents both base paths the authoring router is mounted on", () => {
    expect(spec).toMatchObject({ servers: [{ variables: { basePath: { enum: [...AUTHORING_BASE_PATHS] } } }] });
  });

  it(`documents every route the call router registers under ${RUNTIME_BASE_PATH}, and nothing else`, () => {
    const registered = registeredRoutes(callRouter(unused, unused)).map((route) => {
      const { method, path } = splitRoute(route);
      return `${method} ${RUNTIME_BASE_PATH}${path}`;
    });
    expect(registered.sort()).toEqual([...documentedRuntime].sort());
  });

  it("documents the health, metrics and docs routes (and Bull Board's entry page)", () => {
    const metrics = createMetrics({ readRuntime: () => Promise.resolve([]), readRedisNodes: () => Promise.resolve([]), logger: createLogger("silent"), token: undefined });
    const registered = [healthRouter(unused, unused), metrics.router, docsRouter()].flatMap(registeredRoutes);
    expect([...registered, ...ADMIN_ROUTES].sort()).toEqual([...documentedOperations].sort());
  });

  describe("served by the running app", () => {
    const ADMIN_TOKEN = "openapi-admin-token-0123456789";
    const ctx = useTestApp({ ADMIN_TOKEN });

    const validPayload = { urlPattern: "https://api.example.org/data/*", methods: ["POST"], maxThroughput: 300 };
    const validEndpointConfig = { url: "https://api.example.org/data/*", methods: ["POST"], services: { action: { rating: { maxCallsCount: 5, periodInMs: 1000 } } } };
    const authoringPayload = (url: string) => (url.includes("/endpointConfigs") ? validEndpointConfig : validPayload);
    // No worker runs here: accepted calls stay queued, so the target is never contacted.
    const validCall = { method: "GET", url: "https://api.example.org/never-sent" };
    const bodyFor = (path: string) =>
      !path.startsWith(RUNTIME_BASE_PATH) ? authoringPayload(path) : path.endsWith("/batch") ? { calls: [validCall] } : validCall;

    const send: Record<string, (url: string) => supertest.Test> = {
      GET: (url) => ctx.app.request().get(url).set(ctx.tenant.headers()),
      POST: (url) => ctx.app.request().post(url).set(ctx.tenant.headers()).send(bodyFor(url)),
      PUT: (url) => ctx.app.request().put(url).set(ctx.tenant.headers()).send(authoringPayload(url)),
      DELETE: (url) => ctx.app.request().delete(url).set(ctx.tenant.headers()),
    };

    async function expectServedAsDocumented(routes: string[], base = "") {
      for (const route of routes) {
        const { method, path } = splitRoute(route);
        const response = await send[method]!(base + path.replace(/\{\w+\}/, randomUUID()));
        expect(JSON.parse(String((response.body as { error?: string }).error ?? "{}")), route).not.toMatchObject({
          code: ERRORS.ROUTE_NOT_FOUND.code,
        });
        expectMatchesSpec(response, method, path);
      }
    }

    it.each(AUTHORING_BASE_PATHS)("answers every documented operation under %s as documented", async (base) => {
      await expectServedAsDocumented(documentedAuthoring, base);
    });

    it("answers every documented call API and operational route at the root as documented", async () => {
      // The tenant's credentials are not the admin token: Bull Board answers its documented 401.
      await expectServedAsDocumented([...documentedRuntime, ...documentedOperations]);
    });

    it.each([ADMIN_BASE_PATH, CONSOLE_BASE_PATH])("serves %s as documented to the admin token", async (path) => {
      const page = await ctx.app.request().get(path).set("Authorization", `Bearer ${ADMIN_TOKEN}`);
      expect(page.status).toBe(200);
      expectMatchesSpec(page, "GET", path);
      const firstVisit = await ctx.app.request().get(`${path}?token=${ADMIN_TOKEN}`);
      expect(firstVisit.status).toBe(303);
      expectMatchesSpec(firstVisit, "GET", path);
    });
  });
});
