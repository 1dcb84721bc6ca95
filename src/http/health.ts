import { Router } from "express";
import type { Redis } from "ioredis";
import type { Db } from "../db/prisma.js";

/** Liveness (the process answers) and readiness (Postgres and Redis answer). */
export function healthRouter(db: Db, redis: Redis): Router {
  const router = Router();
  router.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  router.get("/readyz", async (_req, res) => {
    const [postgres, redisOk] = await Promise.all([
      db.$queryRaw`SELECT 1`.then(() => true, () => false),
      redis.ping().then(() => true, () => false),
    ]);
    const ready = postgres && redisOk;
    if (!ready) res.setHeader("Retry-After", "5");
    res.status(ready ? 200 : 503).json({ status: ready ? "ok" : "unavailable", postgres, redis: redisOk });
  });
  return router;
}
