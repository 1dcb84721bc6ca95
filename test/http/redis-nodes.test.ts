import { describe, expect, inject, it } from "vitest";
import { nodeUp } from "../support/prometheus.js";
import { REDIS_URL, useTestApp } from "../support/test-app.js";
import { waitFor } from "../support/timing.js";

// CONTRACT §13: /readyz and /metrics report each Redis node (the one Redis, or every node of a cluster). This file
// also runs in the cluster project, where the tests' Redis is a 3-master cluster; redis-node-down.test.ts kills one.


describe("the tests' Redis", () => {
  const ctx = useTestApp();
  const expected = (inject("redisClusterNodes")?.split(",") ?? [new URL(REDIS_URL).host]).map((node) => `master ${node}`).sort();

  it("/readyz lists each master, all answering", async () => {
    // A cluster client is ready once it has read the slot table.
    await waitFor(async () => (await ctx.app.request().get("/readyz")).status === 200, { timeoutMs: 10_000, message: "/readyz answers 200" });
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
