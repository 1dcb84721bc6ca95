import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedisServer, type RedisServer } from "../support/redis-server.js";
import { useTestApp } from "../support/test-app.js";

// CONTRACT §10: a Redis that may evict keys silently deletes accepted calls, so Sluice does not report ready on one.
let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer(["--maxmemory", "100mb", "--maxmemory-policy", "allkeys-lru"]);
});
afterAll(() => redis?.stop());
const ctx = useTestApp(() => ({ REDIS_URL: redis.url }));

describe("/readyz and Redis' maxmemory-policy", () => {
  it("any policy but noeviction: 503 with Retry-After and the reason, naming the node and the policy", async () => {
    const res = await ctx.app.request().get("/readyz");
    expect(res.status).toBe(503);
    expect(res.headers["retry-after"]).toBe("5");
    expect(res.body).toMatchObject({ status: "unavailable", postgres: true, redis: false });
    expect(res.body.reasons).toEqual([expect.stringMatching(new RegExp(`127\\.0\\.0\\.1:${redis.port} has maxmemory-policy allkeys-lru.*noeviction`))]);
  });

  it("noeviction: ready", async () => {
    await redis.cli("config", "set", "maxmemory-policy", "noeviction");
    const res = await ctx.app.request().get("/readyz");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "ok", postgres: true, redis: true });
    expect(res.body).not.toHaveProperty("reasons");
  });
});
