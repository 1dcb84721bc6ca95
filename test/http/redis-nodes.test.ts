import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parseExposition } from "../support/prometheus.js";
import { startRedisCluster, type RedisCluster } from "../support/redis-cluster.js";
import { REDIS_URL, useTestApp, type TestContext } from "../support/test-app.js";

// CONTRACT §13: /readyz and /metrics report each Redis node (the one Redis, or every node of a cluster). This file
// also runs in the cluster project, where the tests' Redis is a 3-master cluster.

async function nodeUp(ctx: TestContext): Promise<Map<string, number>> {
  const res = await ctx.app.request().get("/metrics");
  expect(res.status).toBe(200);
  const samples = parseExposition(res.text).samples.filter((s) => s.name === "sluice_redis_node_up");
  return new Map(samples.map((s) => [`${s.labels["role"]} ${s.labels["node"]}`, s.value]));
}

describe("the tests' Redis", () => {
  const ctx = useTestApp();
  const expected = (inject("redisClusterNodes")?.split(",") ?? [new URL(REDIS_URL).host]).map((node) => `master ${node}`).sort();

  it("/readyz lists each master, all answering", async () => {
    const res = await ctx.app.request().get("/readyz");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "ok", postgres: true, redis: true });
    const nodes = res.body.redisNodes as { node: string; role: string; ok: boolean }[];
    expect(nodes.map((n) => `${n.role} ${n.node}`).sort()).toEqual(expected);
    expect(nodes.every((n) => n.ok)).toBe(true);
  });

  it("/metrics has sluice_redis_node_up 1 for each", async () => {
    const up = await nodeUp(ctx);
    expect([...up.keys()].sort()).toEqual(expected);
    expect([...up.values()].every((value) => value === 1)).toBe(true);
  });
});

describe("a cluster with a master down", () => {
  let cluster: RedisCluster;
  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3 });
  });
  afterAll(() => cluster?.stop());
  const ctx = useTestApp(() => ({ REDIS_CLUSTER_NODES: cluster.nodes.join(",") }));

  it("is ready while every master answers", async () => {
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
