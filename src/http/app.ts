import express, { type Express } from "express";
import { nodeHealth, type RedisClient } from "../shared/redis.js";
import { cappingConfigRouter } from "../capping/capping-config.routes.js";
import type { CappingConfigService } from "../capping/capping-config.service.js";
import type { Db } from "../db/prisma.js";
import { consoleApp, CONSOLE_BASE_PATH } from "../console/console.routes.js";
import type { ConsoleReader } from "../console/console-reader.js";
import { RUNTIME_BASE_PATH } from "../runtime/accept/call.operations.js";
import { callRouter } from "../runtime/accept/call.routes.js";
import type { CallService } from "../runtime/accept/call.service.js";
import type { RuntimeQueues } from "../runtime/queues.js";
import type { RuntimeStatusReader } from "../runtime/runtime-status.js";
import type { UnthrottledLanes } from "../runtime/unthrottled-lanes.js";
import type { Logger } from "../shared/logger.js";
import { AUTHORING_BASE_PATHS } from "../authoring/base-paths.js";
import { throttlingConfigRouter } from "../throttling/throttling-config.routes.js";
import type { ThrottlingConfigService } from "../throttling/throttling-config.service.js";
import { ADMIN_BASE_PATH, adminApp } from "./admin.js";
import { adminDisabledGuard } from "./admin-session.js";
import { docsRouter } from "./docs.js";
import { healthRouter } from "./health.js";
import { createMetrics } from "./metrics.js";
import { collapseSlashes } from "./middleware/collapse-slashes.js";
import { errorEnvelope, routeNotFound } from "./middleware/error-envelope.js";
import { requestId } from "./middleware/request-id.js";
import { requestLog } from "./middleware/request-log.js";
import type { AuthenticationDeps } from "../tenancy/authenticate.js";
import "./locals.js";

export interface HttpDeps {
  db: Db;
  redis: RedisClient;
  logger: Logger;
  version: string;
  /** Authentication and the API limits (CONTRACT §2, §7). */
  auth: AuthenticationDeps;
  throttlingConfigs: ThrottlingConfigService;
  cappingConfigs: CappingConfigService;
  calls: CallService;
  runtimeStatus: RuntimeStatusReader;
  queues: RuntimeQueues;
  unthrottled: UnthrottledLanes;
  consoleReader: ConsoleReader;
  /** Enables Bull Board at /admin/queues and the console at /console (without it, both answer 401 saying so). */
  adminToken: string | undefined;
  /** When set, /metrics requires it as a Bearer token. */
  metricsToken: string | undefined;
}

/** The Express app: cross-cutting middleware, feature routers, then the one error middleware. */
export function createHttpApp(deps: HttpDeps): Express {
  const app = express();
  app.disable("x-powered-by");
  // No ETag: nothing documents conditional requests, and hashing every response body costs CPU on every request.
  app.set("etag", false);
  app.set("trust proxy", true);
  const metrics = createMetrics({
    readRuntime: () => deps.runtimeStatus.allLanes(),
    readRedisNodes: () => nodeHealth(deps.redis),
    logger: deps.logger,
    token: deps.metricsToken,
  });
  app.use(collapseSlashes, requestId, metrics.httpLatency, requestLog(deps.logger));
  app.use(healthRouter(deps.db, deps.redis));
  app.use(docsRouter());
  app.use(metrics.router);
  if (deps.adminToken) {
    app.use(adminApp({ token: deps.adminToken, db: deps.db, queues: deps.queues, unthrottled: deps.unthrottled }));
    app.use(consoleApp({ token: deps.adminToken, reader: deps.consoleReader, calls: deps.calls }));
  } else {
    for (const page of [ADMIN_BASE_PATH, CONSOLE_BASE_PATH]) app.use(page, adminDisabledGuard(page));
  }
  // Capping first: it handles only its own paths, and the throttling router authenticates whatever else is left.
  const authoring = [
    cappingConfigRouter(deps.auth, deps.cappingConfigs, deps.runtimeStatus),
    throttlingConfigRouter(deps.auth, deps.throttlingConfigs, deps.runtimeStatus),
  ];
  for (const base of AUTHORING_BASE_PATHS) app.use(base, ...authoring);
  app.use(RUNTIME_BASE_PATH, callRouter(deps.auth, deps.calls));
  app.use(routeNotFound);
  app.use(errorEnvelope({ version: deps.version, logger: deps.logger }));
  return app;
}
