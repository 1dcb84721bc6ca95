import type { OpenAPIRegistry, ResponseConfig, RouteConfig } from "@asteasolutions/zod-to-openapi";
import { z } from "zod";
import { CONSOLE_BASE_PATH } from "../console/console.routes.js";
import { ADMIN_BASE_PATH } from "../http/admin.js";
import { adminDisabled, adminUnauthorized } from "../http/admin-session.js";
import { METRICS_UNAUTHORIZED } from "../http/metrics.js";
import { ADMIN_SECURITY, METRICS_SECURITY, RESPONSE_HEADERS, RETRY_RESPONSE_HEADERS, parameterRef } from "./components.js";
import { errorResponse, example, jsonResponse, knownError } from "./responses.js";

export const OPERATIONS_TAG = "Operations";


// The shapes src/http/health.ts answers with.
const liveness = z.object({ status: z.literal("ok") }).meta({ id: "Liveness" });
const readiness = z
  .object({
    status: z.enum(["ok", "unavailable"]),
    postgres: z.boolean().meta({ description: "Postgres answered `SELECT 1`." }),
    redis: z.boolean().meta({ description: "Redis answered `PING` (on a cluster: every master did)." }),
    redisNodes: z
      .array(
        z.object({
          node: z.string().meta({ description: "The node's host:port." }),
          role: z.enum(["master", "replica"]),
          ok: z.boolean().meta({ description: "The node answered `PING` within a second." }),
        }),
      )
      .meta({ description: "Each Redis node: the one Redis, or every master and replica of a cluster." }),
  })
  .meta({ id: "Readiness" });
const openApiJson = z.object({ openapi: z.literal("3.1.0") }).loose().meta({ description: "This document." });

/** Prometheus' text exposition format, as prom-client renders it. */
const prometheusText: ResponseConfig = {
  description:
    "The metrics in Prometheus' text format (`text/plain; version=0.0.4`): per runtime version and per organization's " +
    "unthrottled queue, queue depth, oldest queued age and sent, retried, expired and dropped counts; dispatch latency; " +
    "API latency by route and status; each Redis node's health (every master and replica of a cluster).",
  headers: RESPONSE_HEADERS,
  content: { "text/plain": { schema: z.string() } },
};

const html = (description: string): ResponseConfig => ({
  description,
  headers: RESPONSE_HEADERS,
  content: { "text/html": { schema: z.string() } },
});

const yaml: ResponseConfig = {
  description: "This document, as YAML.",
  headers: RESPONSE_HEADERS,
  content: { "application/yaml": { schema: z.string() } },
};

/** A GET at the service root (not under a base path), without credentials unless `security` says otherwise. */
const rootGet = (
  path: string,
  operationId: string,
  summary: string,
  responses: RouteConfig["responses"],
  more: Pick<RouteConfig, "description" | "security" | "parameters"> = {},
): RouteConfig => ({
  method: "get",
  path,
  operationId,
  summary,
  tags: [OPERATIONS_TAG],
  servers: [{ url: "/", description: "The service root." }],
  security: [],
  parameters: [parameterRef("RequestId")],
  responses,
  ...more,
});

/** An operator page behind ADMIN_TOKEN (src/http/admin-session.ts): Bull Board, the console. */
const adminPage = (path: string, operationId: string, summary: string, text: { page: string; purpose: string }): RouteConfig =>
  rootGet(
    path,
    operationId,
    summary,
    {
      200: html(text.page),
      303: {
        description: "`?token=` was right: sets the session cookie and redirects to the same page without the token.",
        headers: { ...RESPONSE_HEADERS, Location: { description: "The page without `token`.", schema: { type: "string" } } },
        content: { "text/plain": { schema: z.string() } },
      },
      401: errorResponse(
        401,
        [
          knownError("UNAUTHORIZED", { method: "GET", path }, { message: adminUnauthorized(path) }),
          { ...knownError("UNAUTHORIZED", { method: "GET", path }, { message: adminDisabled(path) }), key: "DISABLED" },
        ],
        { headline: "No admin token or session cookie, or a wrong one; or the service has no `ADMIN_TOKEN`, so the page is disabled." },
      ),
    },
    {
      description:
        `${text.purpose}; not part of the API contract. Enabled only when \`ADMIN_TOKEN\` is set ` +
        "(otherwise every request answers 401 saying so). Send `Authorization: Bearer <ADMIN_TOKEN>`; in a browser, open " +
        `\`${path}?token=<ADMIN_TOKEN>\` once, which sets an HttpOnly session cookie scoped to \`${path}\`.`,
      security: ADMIN_SECURITY,
      parameters: [
        {
          name: "token",
          in: "query",
          required: false,
          description: "`ADMIN_TOKEN`, for a browser's first visit (answered 303).",
          schema: { type: "string" },
        },
        parameterRef("RequestId"),
      ],
    },
  );

export function registerOperationsPaths(registry: OpenAPIRegistry): void {
  for (const route of [
    rootGet("/healthz", "liveness", "Liveness: the process answers", {
      200: jsonResponse("Alive.", liveness, { alive: example("Alive", { status: "ok" }) }),
    }),
    rootGet("/readyz", "readiness", "Readiness: Postgres and Redis answer", {
      200: jsonResponse("Ready.", readiness, {
        ready: example("Ready", { status: "ok", postgres: true, redis: true, redisNodes: [{ node: "redis:6379", role: "master", ok: true }] }),
      }),
      503: jsonResponse(
        "Not ready: retry after `Retry-After` seconds.",
        readiness,
        {
          redisDown: example("A cluster master does not answer", {
            status: "unavailable",
            postgres: true,
            redis: false,
            redisNodes: [
              { node: "10.0.0.11:6379", role: "master", ok: true },
              { node: "10.0.0.12:6379", role: "master", ok: false },
              { node: "10.0.0.13:6379", role: "master", ok: true },
            ],
          }),
        },
        RETRY_RESPONSE_HEADERS,
      ),
    }),
    rootGet(
      "/metrics",
      "metrics",
      "Prometheus metrics",
      {
        200: prometheusText,
        401: errorResponse(401, [knownError("UNAUTHORIZED", { method: "GET", path: "/metrics" }, { message: METRICS_UNAUTHORIZED })], {
          headline: "`METRICS_TOKEN` is set and the request did not carry it.",
        }),
      },
      {
        description: "Open by default; when the service sets `METRICS_TOKEN`, send `Authorization: Bearer <METRICS_TOKEN>`.",
        security: METRICS_SECURITY,
      },
    ),
    adminPage(ADMIN_BASE_PATH, "adminQueues", "Bull Board: the runtime queues, read-only (HTML)", {
      page: "Bull Board's web UI; its assets and JSON API live under `/admin/queues/`.",
      purpose: "For operators inspecting queues",
    }),
    adminPage(CONSOLE_BASE_PATH, "operatorConsole", "The operator console (HTML)", {
      page:
        "Every org with its configs and their state; per deployed config, sends per second against its limit over the last " +
        "5 minutes, queue depth, oldest queued age, pause and sends in flight; recent failed, expired and dropped calls " +
        "with a replay button. The page and its JSON API (under `/console/api/`) never show a call's headers, bodies or query string.",
      purpose: "For operators watching the runtime",
    }),
    rootGet("/docs", "apiReference", "This API reference in a browser (HTML)", {
      200: html("Swagger UI rendering this document, served by Sluice itself (no request leaves for another origin); \"Try it out\" sends to this service."),
    }),
    rootGet("/docs/openapi.yaml", "openApiYaml", "This OpenAPI document (YAML)", { 200: yaml }),
    rootGet("/docs/openapi.json", "openApiJson", "This OpenAPI document (JSON)", {
      200: jsonResponse("This document, as JSON.", openApiJson),
    }),
  ]) {
    registry.registerPath(route);
  }
}
