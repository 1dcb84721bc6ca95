import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeUp } from "../support/prometheus.js";
import { startRedisCluster, type RedisCluster } from "../support/redis-cluster.js";
import { useTestApp } from "../support/test-app.js";
import { waitFor } from "../support/timing.js";

// CONTRACT §13 on a cluster of its own (3 masters, no replicas): a master that stops answering makes Sluice unready,
// and /readyz and /metrics name it.
describe("a cluster with a master down", () => {
  let cluster: RedisCluster;
  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3 });
  });
  afterAll(() => cluster?.stop());
  const ctx = useTestApp(() => ({ REDIS_CLUSTER_NODES: cluster.nodes.join(",") }));

  it("is ready while every master answers (once the client has read the slot table)", async () => {
    await waitFor(async () => (await ctx.app.request().get("/readyz")).status === 200, { timeoutMs: 10_000, message: "/readyz answers 200" });
    const res = await ctx.app.request().get("/readyz");
    expect(res.status).toBe(200);
    expect((res.body.redisNodes as { ok: boolean }[]).map((n) => n.ok)).toEqual([true, true, true]);
  });

  it("is not ready once one is killed, naming it in /readyz and /metrics", async () => {
    const [down, ...up] = cluster.nodes;
    await cluster.kill(down!);
    const res = await ctx.app.request().get("/readyz");
    expect(res.status).toBe(503);
    expect(res.headers["retry-after"]).toBe("5");
    expect(res.body).toMatchObject({ status: "unavailable", postgres: true, redis: false });
    const byNode = new Map((res.body.redisNodes as { node: string; ok: boolean }[]).map((n) => [n.node, n.ok]));
    expect(byNode.get(down!)).toBe(false);
    for (const node of up) expect(byNode.get(node)).toBe(true);
    const metrics = await nodeUp(ctx);
    expect(metrics.get(`master ${down}`)).toBe(0);
    for (const node of up) expect(metrics.get(`master ${node}`)).toBe(1);
  });
});
