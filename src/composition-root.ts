import type { Server, ServerResponse } from "node:http";
import { once } from "node:events";
import { Redis } from "ioredis";
import type { Env } from "./config/env.js";
import { resolveVersion } from "./config/version.js";
import { createPrisma } from "./db/prisma.js";
import { createHttpApp } from "./http/app.js";
import type { Logger } from "./shared/logger.js";
import { ThrottlingConfigService } from "./throttling/throttling-config.service.js";

export interface Sluice {
  /** Starts the services named in SERVICES; resolves once the API listens. */
  start(): Promise<void>;
  /** Ordered shutdown: stop accepting, finish in-flight requests, then close Redis and the database. */
  stop(): Promise<void>;
  /** The port the API listens on (useful with PORT=0). */
  readonly port: number;
}

/** The one place where clients are created and wired into the features. */
export function createSluice(env: Env, logger: Logger): Sluice {
  const db = createPrisma(env.DATABASE_URL, env.DATABASE_POOL_SIZE);
  // Connects (and reconnects) in the background: a Redis outage degrades features, it does not stop the API.
  const redis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: 2 });
  redis.on("error", (error) => logger.warn({ err: error }, "redis connection error"));
  const throttlingConfigs = new ThrottlingConfigService(db, redis, env.REDIS_PREFIX);
  const app = createHttpApp({ db, redis, logger, version: resolveVersion(env.SLUICE_VERSION), throttlingConfigs });
  let server: Server | undefined;
  let stopping = false;

  return {
    get port() {
      const address = server?.address();
      return typeof address === "object" && address ? address.port : env.PORT;
    },
    async start() {
      if (env.SERVICES.includes("worker")) {
        logger.warn("SERVICES includes worker, but this build has no runtime worker yet; running the API only");
      }
      if (!env.SERVICES.includes("api")) return;
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
      if (redis.status === "ready") await redis.quit().catch(() => undefined);
      else redis.disconnect();
      await db.$disconnect();
      logger.info("sluice stopped");
    },
  };
}
