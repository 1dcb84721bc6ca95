import { Router } from "express";
import { allMastersUp, nodeHealth, type RedisClient } from "../shared/redis.js";
import type { Db } from "../db/prisma.js";

/** Liveness (the process answers) and readiness (Postgres and every Redis master answer; CONTRACT §13). */
export function healthRouter(db: Db, redis: RedisClient): Router {
  const router = Router();
  router.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  router.get("/readyz", async (_req, res) => {
    const [postgres, redisNodes] = await Promise.all([db.$queryRaw`SELECT 1`.then(() => true, () => false), nodeHealth(redis)]);
    const redisOk = allMastersUp(redisNodes);
    const ready = postgres && redisOk;
    if (!ready) res.setHeader("Retry-After", "5");
    res.status(ready ? 200 : 503).json({ status: ready ? "ok" : "unavailable", postgres, redis: redisOk, redisNodes });
  });
  return router;
}
