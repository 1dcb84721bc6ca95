import { Router } from "express";
import { allMastersUp, evictionPolicies, nodeHealth, type RedisClient } from "../shared/redis.js";
import type { Db } from "../db/prisma.js";

/**
 * Liveness (the process answers) and readiness: Postgres and every Redis master answer (CONTRACT §13), and no master
 * may evict keys (§10: eviction silently deletes accepted calls).
 */
export function healthRouter(db: Db, redis: RedisClient): Router {
  const router = Router();
  router.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  router.get("/readyz", async (_req, res) => {
    const [postgres, redisNodes, policies] = await Promise.all([
      db.$queryRaw`SELECT 1`.then(() => true, () => false),
      nodeHealth(redis),
      evictionPolicies(redis),
    ]);
    const evicting = policies.filter(({ policy }) => policy !== "noeviction");
    const mastersUp = allMastersUp(redisNodes);
    const redisOk = mastersUp && evicting.length === 0;
    const ready = postgres && redisOk;
    const reasons = [
      ...(postgres ? [] : ["Postgres does not answer"]),
      ...(mastersUp ? [] : ["a Redis master does not answer"]),
      ...evicting.map(({ node, policy }) => `Redis ${node} has maxmemory-policy ${policy}: it may evict accepted calls; set it to noeviction`),
    ];
    if (!ready) res.setHeader("Retry-After", "5");
    res.status(ready ? 200 : 503).json({ status: ready ? "ok" : "unavailable", postgres, redis: redisOk, redisNodes, ...(ready ? {} : { reasons }) });
  });
  return router;
}
