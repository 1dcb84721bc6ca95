import { readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { compileErrors, validate } from "@readme/openapi-parser";
import type { Router } from "express";
import type supertest from "supertest";
import { describe, expect, it } from "vitest";
import { docsRouter, OPENAPI_PATH } from "../../src/http/docs.js";
import { healthRouter } from "../../src/http/health.js";
import { renderOpenApiYaml } from "../../src/openapi/write.js";
import { ERRORS, type ErrorName } from "../../src/shared/errors/catalogue.js";
import { AUTHORING_BASE_PATHS, throttlingConfigRouter } from "../../src/throttling/throttling-config.routes.js";
import { expectMatchesSpec, schemaErrors, spec, type MediaTypeSpec } from "../support/openapi.js";
import { useTestApp } from "../support/test-app.js";

const OPERATIONS_PATHS = ["/healthz", "/readyz", "/docs", "/docs/openapi.yaml", "/docs/openapi.json"];

/** "METHOD /path" of every documented authoring operation. */
const documentedAuthoring = Object.entries(spec.paths)
  .filter(([path]) => !OPERATIONS_PATHS.includes(path))
  .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`));

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

  describe("documents, for each operation, the errors CONTRACT §2 and §5 give it", () => {
    const validation: ErrorName[] = [
      "CONFIG_ATTRIBUTE_REQUIRED",
      "CONFIG_MAX_THROUGHPUT",
      "CONFIG_MALFORMED_URL_PATTERN",
      "CONFIG_WILDCARD_IN_HOST",
      "CONFIG_INVALID_PAYLOAD",
    ];
    const generic: ErrorName[] = [
      "SANDBOX_REQUIRED",
      "NON_PROD_SANDBOX",
      "UNAUTHORIZED",
      "ORG_MISMATCH",
      "PAYLOAD_TOO_LARGE",
      "UNSUPPORTED_MEDIA_TYPE",
      "INTERNAL",
      "DEPENDENCY_UNAVAILABLE",
    ];
    const byUid: ErrorName[] = [...generic, "NOT_FOUND"];
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
    };

    it("covers exactly the authoring operations", () => {
      expect([...documentedAuthoring].sort()).toEqual(Object.keys(expected).sort());
    });

    it.each(Object.entries(expected))("%s", (route, names) => {
      const shown = errorExamples().filter(({ where }) => where.startsWith(`${route} `));
      const missing = names.filter((name) => !shown.some(({ detail }) => detail.code === ERRORS[name].code));
      expect(missing).toEqual([]);
      const { method, path } = splitRoute(route);
      expect(spec.paths[path]?.[method.toLowerCase()]?.responses["503"]?.headers).toHaveProperty("Retry-After");
    });
  });
});

describe("routes", () => {
  // Only the route table is read: the handlers (and so the absent db and services) never run.
  const unused = undefined as never;

  it("documents every route the authoring router registers, and nothing else", () => {
    expect(registeredRoutes(throttlingConfigRouter(unused, unused)).sort()).toEqual([...documentedAuthoring].sort());
  });

  it("documents both base paths the authoring router is mounted on", () => {
    expect(spec).toMatchObject({ servers: [{ variables: { basePath: { enum: [...AUTHORING_BASE_PATHS] } } }] });
  });

  it("documents the health and docs routes", () => {
    const registered = [...registeredRoutes(healthRouter(unused, unused)), ...registeredRoutes(docsRouter())];
    expect(registered.sort()).toEqual(OPERATIONS_PATHS.map((path) => `GET ${path}`).sort());
  });

  describe("served by the running app", () => {
    const ctx = useTestApp();

    const validPayload = { urlPattern: "https://api.example.org/data/*", methods: ["POST"], maxThroughput: 300 };

    const send: Record<string, (url: string) => supertest.Test> = {
      GET: (url) => ctx.app.request().get(url).set(ctx.tenant.headers()),
      POST: (url) => ctx.app.request().post(url).set(ctx.tenant.headers()).send(validPayload),
      PUT: (url) => ctx.app.request().put(url).set(ctx.tenant.headers()).send(validPayload),
      DELETE: (url) => ctx.app.request().delete(url).set(ctx.tenant.headers()),
    };

    it.each(AUTHORING_BASE_PATHS)("answers every documented operation under %s as documented", async (base) => {
      for (const route of documentedAuthoring) {
        const { method, path } = splitRoute(route);
        const response = await send[method]!(base + path.replace("{uid}", randomUUID()));
        expect(JSON.parse(String((response.body as { error?: string }).error ?? "{}")), route).not.toMatchObject({
          code: ERRORS.ROUTE_NOT_FOUND.code,
        });
        expectMatchesSpec(response, method, path);
      }
    });
  });
});
