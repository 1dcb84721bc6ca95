import type { OpenAPIRegistry, ResponseConfig, RouteConfig } from "@asteasolutions/zod-to-openapi";
import { z } from "zod";
import { RESPONSE_HEADERS, RETRY_RESPONSE_HEADERS, parameterRef } from "./components.js";
import { example, jsonResponse } from "./responses.js";

export const OPERATIONS_TAG = "Operations";

// The shapes src/http/health.ts answers with.
const liveness = z.object({ status: z.literal("ok") }).meta({ id: "Liveness" });
const readiness = z
  .object({
    status: z.enum(["ok", "unavailable"]),
    postgres: z.boolean().meta({ description: "Postgres answered `SELECT 1`." }),
    redis: z.boolean().meta({ description: "Redis answered `PING`." }),
  })
  .meta({ id: "Readiness" });
const openApiJson = z.object({ openapi: z.literal("3.1.0") }).loose().meta({ description: "This document." });

const yaml: ResponseConfig = {
  description: "This document, as YAML.",
  headers: RESPONSE_HEADERS,
  content: { "application/yaml": { schema: z.string() } },
};

/** A GET at the service root (not under a base path), without credentials. */
const rootGet = (path: string, operationId: string, summary: string, responses: RouteConfig["responses"]): RouteConfig => ({
  method: "get",
  path,
  operationId,
  summary,
  tags: [OPERATIONS_TAG],
  servers: [{ url: "/", description: "The service root." }],
  security: [],
  parameters: [parameterRef("RequestId")],
  responses,
});

export function registerOperationsPaths(registry: OpenAPIRegistry): void {
  for (const route of [
    rootGet("/healthz", "liveness", "Liveness: the process answers", {
      200: jsonResponse("Alive.", liveness, { alive: example("Alive", { status: "ok" }) }),
    }),
    rootGet("/readyz", "readiness", "Readiness: Postgres and Redis answer", {
      200: jsonResponse("Ready.", readiness, { ready: example("Ready", { status: "ok", postgres: true, redis: true }) }),
      503: jsonResponse(
        "Not ready: retry after `Retry-After` seconds.",
        readiness,
        { redisDown: example("Redis does not answer", { status: "unavailable", postgres: true, redis: false }) },
        RETRY_RESPONSE_HEADERS,
      ),
    }),
    rootGet("/docs", "openApiDocument", "This OpenAPI document (YAML)", { 200: yaml }),
    rootGet("/docs/openapi.yaml", "openApiYaml", "This OpenAPI document (YAML)", { 200: yaml }),
    rootGet("/docs/openapi.json", "openApiJson", "This OpenAPI document (JSON)", {
      200: jsonResponse("This document, as JSON.", openApiJson),
    }),
  ]) {
    registry.registerPath(route);
  }
}
