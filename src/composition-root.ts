import { once } from "node:events";
import type { Server, ServerResponse } from "node:http";
import type { Env } from "./config/env.js";
import { resolveVersion } from "./config/version.js";
import { createDatabase } from "./db/prisma.js";
import { ConsoleReader } from "./console/console-reader.js";
import { createHttpApp } from "./http/app.js";
import { CallStore } from "./runtime/call-store.js";
import { CallbackDeliverer } from "./runtime/callbacks/callback-deliverer.js";
import { CallbackOutbox } from "./runtime/callbacks/callback-outbox.js";
import { CallbackSecrets } from "./runtime/callbacks/callback-secrets.js";
import { CallService } from "./runtime/accept/call.service.js";
import { EgressPolicy } from "./egress/policy.js";
import { CallDispatcher } from "./runtime/dispatch/dispatcher.js";
import { LaneWorkers } from "./runtime/dispatch/lane-workers.js";
import { createHttpSender } from "./runtime/dispatch/http-sender.js";
import { runtimeKeys, throttledLane } from "./runtime/keys.js";
import { InFlightSends } from "./runtime/in-flight.js";
import { CallGate } from "./runtime/limits/call-gate.js";
import { SlidingWindows } from "./shared/sliding-window.js";
import { OrgBudget } from "./runtime/org-budget.js";
import { Pacer } from "./runtime/dispatch/pacer.js";
import { RuntimeQueues } from "./runtime/queues.js";
import { RuntimeStatusReader } from "./runtime/runtime-status.js";
import { RuntimeWorker } from "./runtime/dispatch/runtime-worker.js";
import { RECORD_TTL_MS, runtimeSettings } from "./runtime/settings.js";
import { RuntimeStats } from "./runtime/stats.js";
import { UnthrottledLanes } from "./runtime/unthrottled-lanes.js";
import { Reconciler } from "./runtime/dispatch/reconciler.js";
import { Sweeper } from "./runtime/dispatch/sweeper.js";
import type { Logger } from "./shared/logger.js";
import { createRedis, redisTarget } from "./shared/redis.js";
import { ThrottlingConfigService } from "./throttling/throttling-config.service.js";
import { CappingConfigService } from "./capping/capping-config.service.js";
import { FailedAuths } from "./tenancy/failed-auths.js";
import { OrgChangeFeed } from "./tenancy/org-changes.js";
import { RequestLimits } from "./tenancy/request-limits.js";
import { TenantDirectory } from "./tenancy/tenant-directory.js";

export interface Sluice {
  /** Starts the services named in SERVICES; resolves once the API listens and the worker runs. */
  start(): Promise<void>;
  /** Ordered shutdown: stop accepting, finish in-flight requests and calls, then close Redis and the database. */
  stop(): Promise<void>;
  /** The port the API listens on (useful with PORT=0). */
  readonly port: number;
}

/** An unthrottled lane is kept in view this long past the retention, so the sweeper can expire its last calls. */
const LANE_LIVE_MARGIN_MS = 10 * 60_000;

/** The one place where clients are created and wired into the features. */
export function createSluice(env: Env, logger: Logger): Sluice {
  const { db, sql } = createDatabase(env.DATABASE_URL, env.DATABASE_POOL_SIZE);
  // Connects (and reconnects) in the background: a Redis outage degrades features, it does not stop the API.
  // Auto-pipelining sends every command issued in one tick in one write: with hundreds of calls in flight, the
  // per-command socket writes were the worker's largest cost. (Blocking commands use BullMQ's own connections.)
  const target = redisTarget(env);
  const redis = createRedis(target, { maxRetriesPerRequest: 2, enableAutoPipelining: true });
  redis.on("error", (error) => logger.warn({ err: error }, "redis connection error"));

  const settings = runtimeSettings(env);
  const keys = runtimeKeys(env.REDIS_PREFIX);
  // BullMQ defines its scripts on the connection it is given, and ioredis copies every defined script onto each
  // pipeline it builds (one per tick with auto-pipelining): the queues get a plain connection of their own.
  const queueConnection = createRedis(target, { maxRetriesPerRequest: 2 });
  queueConnection.on("error", (error) => logger.debug({ err: error }, "redis connection error (queues)"));
  const queues = new RuntimeQueues(queueConnection, keys);
  const pacer = new Pacer(redis, keys);
  const budget = new OrgBudget(redis, keys, settings.retentionMs + RECORD_TTL_MS);
  const records = new CallStore(redis, keys, budget);
  const stats = new RuntimeStats(redis, keys);
  const unthrottled = new UnthrottledLanes(redis, keys, settings.retentionMs + LANE_LIVE_MARGIN_MS);
  const windows = new SlidingWindows(redis);
  const orgChanges = new OrgChangeFeed({
    redis,
    subscriber: createRedis(target, { lazyConnect: true }),
    channel: keys.orgChanges(),
    logger,
  });
  const announceChange = (orgId: string) => orgChanges.announce("deploys", orgId);
  const auth = {
    tenants: new TenantDirectory(db, orgChanges),
    failedAuths: new FailedAuths({ windows, keys, perMinute: env.AUTH_FAILURES_PER_MINUTE, logger }),
    limits: new RequestLimits({ windows, keys, logger }),
  };
  const egress = new EgressPolicy({ allow: env.EGRESS_ALLOW, deny: env.EGRESS_DENY, viaProxy: env.OUTBOUND_PROXY_URL !== undefined });
  const throttlingConfigs = new ThrottlingConfigService(db, {
    redis,
    redisPrefix: env.REDIS_PREFIX,
    drainMs: settings.drainMs,
    publishRate: (id, rate) => pacer.setRate(throttledLane(id), rate),
    announceChange,
  }, sql);
  const cappingConfigs = new CappingConfigService(db, { redis, redisPrefix: env.REDIS_PREFIX, drainMs: settings.drainMs, announceChange });
  const callbacks = new CallbackOutbox(redis, keys, settings.retentionMs + RECORD_TTL_MS + LANE_LIVE_MARGIN_MS);
  const stores = { db, redis, keys, queues, records, budget, unthrottled };
  const calls = new CallService({ ...stores, callbacks, egress, settings, orgChanges });
  const runtimeStatus = new RuntimeStatusReader({ db, redis, keys, stats, unthrottled, logger });
  const app = createHttpApp({
    db,
    redis,
    logger,
    version: resolveVersion(env.SLUICE_VERSION),
    auth,
    throttlingConfigs,
    cappingConfigs,
    calls,
    runtimeStatus,
    queues,
    unthrottled,
    consoleReader: new ConsoleReader({ db, redis, keys, stats, runtimeStatus, calls }),
    adminToken: env.ADMIN_TOKEN,
    metricsToken: env.METRICS_TOKEN,
  });

  const runtimeWorker = env.SERVICES.includes("worker") ? createWorker() : undefined;
  let server: Server | undefined;
  let stopping = false;

  function createWorker(): { worker: RuntimeWorker; close(): Promise<void> } {
    const sender = createHttpSender({
      egress,
      previewBytes: env.RUNTIME_BODY_PREVIEW_BYTES,
      ...(env.OUTBOUND_PROXY_URL ? { proxyUrl: env.OUTBOUND_PROXY_URL } : {}),
    });
    const sweeper = new Sweeper({ ...stores, logger, retentionMs: settings.retentionMs, lockMs: settings.lockMs });
    const deliverer = new CallbackDeliverer({
      outbox: callbacks,
      records,
      sender,
      secrets: new CallbackSecrets(db),
      logger,
      retryBaseMs: settings.callbackRetryBaseMs,
    });
    const inFlight = new InFlightSends(redis, keys);
    const dispatcher: CallDispatcher = new CallDispatcher({
      records,
      pacer,
      gate: new CallGate(windows, (lane) => worker.limitsOf(lane)),
      sender,
      stats,
      inFlight,
      keys,
      retentionMs: settings.retentionMs,
      drained: (lane): boolean => worker.drained(lane),
      onCallback: (callId) => deliverer.kick(callId),
    });
    // BullMQ workers need a connection with no per-command retry limit.
    const workerConnection = createRedis(target, { maxRetriesPerRequest: null });
    const workers = new LaneWorkers({ connection: workerConnection, keys, settings, dispatcher, logger });
    const worker: RuntimeWorker = new RuntimeWorker({
      ...stores,
      pacer,
      redisPrefix: env.REDIS_PREFIX,
      workers,
      sweeper,
      reconciler: new Reconciler({ ...stores, logger, retentionMs: settings.retentionMs }),
      deliverer,
      inFlight,
      settings,
      logger,
    });
    return { worker, close: () => sender.close() };
  }

  return {
    get port() {
      const address = server?.address();
      return typeof address === "object" && address ? address.port : env.PORT;
    },
    async start() {
      if (runtimeWorker) await runtimeWorker.worker.start();
      if (!env.SERVICES.includes("api")) return;
      orgChanges.start();
      server = app.listen(env.PORT, env.HOST);
      // While stopping, close each connection once its response is sent instead of keeping it alive.
      server.on("request", (_req, res: ServerResponse) => {
        res.on("finish", () => {
          if (stopping) setImmediate(() => server?.closeIdleConnections());
        });
      });
      await once(server, "listening");
      logger.info({ port: this.port, services: env.SERVICES }, "sluice started");
    },
    async stop() {
      stopping = true;
      if (server) {
        const closed = new Promise<void>((resolve) => server!.close(() => resolve()));
        server.closeIdleConnections();
        const deadline = setTimeout(() => server?.closeAllConnections(), env.SHUTDOWN_TIMEOUT_MS);
        await closed;
        clearTimeout(deadline);
      }
      await orgChanges.stop();
      if (runtimeWorker) {
        await runtimeWorker.worker.stop(env.SHUTDOWN_TIMEOUT_MS);
        await runtimeWorker.close();
      }
      await queues.close();
      for (const client of [redis, queueConnection]) {
        if (client.status === "ready") await client.quit().catch(() => undefined);
        else client.disconnect();
      }
      await db.$disconnect();
      logger.info("sluice stopped");
    },
  };
}
