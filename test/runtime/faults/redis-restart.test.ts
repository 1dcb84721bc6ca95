import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callsTo, deployConfig, submitBatch, useRuntime, waitForCallStates } from "../../support/runtime.js";
import { startRedisServer, type RedisServer } from "../../support/redis-server.js";
import { startTimingSink } from "../../support/timing-sink.js";
import { stallAware, waitFor } from "../../support/timing.js";

// CONTRACT §10 fault test: Redis (AOF, appendfsync always) SIGKILLed and restarted during a 2,000-call backlog at
// N = 200. Every call answered 202 reaches a terminal state and the sink at least once, and the rate holds. Calls in
// flight when Redis died are taken again once their lock lapses (RUNTIME_LOCK_MS, shortened here).
const N = 200;
const CALLS = 2000;
let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer(["--appendonly", "yes", "--appendfsync", "always"]);
});
afterAll(() => redis?.stop());
const rt = useRuntime({ startSink: startTimingSink, env: () => ({ REDIS_URL: redis.url, RUNTIME_LOCK_MS: "5000" }) });
const { ctx } = rt;

describe("Redis killed and restarted during a backlog", () => {
  it("loses no accepted call, and no second carries more than N sends", { timeout: 120_000 }, async () => {
    await deployConfig(ctx, { urlPattern: `${rt.sink.url}/aof/*`, methods: ["POST"], maxThroughput: N });
    const accepted = await submitBatch(ctx, callsTo(`${rt.sink.url}/aof/`, CALLS));
    expect(accepted).toHaveLength(CALLS);
    await rt.sink.waitForArrivals(3 * N, { pathPrefix: "/aof/", timeoutMs: 10_000 });
    await redis.kill();
    const killedAt = Date.now();
    await sleep(1000);
    await redis.restart();
    const restartedAfterMs = Date.now() - killedAt;

    const records = await waitForCallStates(ctx, accepted.map((call) => call.callId), ["succeeded", "failed"], 90_000);
    const arrivals = rt.sink.arrivals.filter((arrival) => arrival.path.startsWith("/aof/"));
    const delivered = new Set(arrivals.map((arrival) => arrival.path));
    const measured = stallAware(rt.sink.stalls);
    const largest = measured.maxInWindow(rt.sink.arrivalTimes("/aof/"));
    console.info(`redis down ${restartedAfterMs} ms: ${CALLS - delivered.size} lost, ${arrivals.length - delivered.size} duplicates, ` +
      `largest sliding second ${largest}, states ${JSON.stringify(countBy(records.map((record) => record.state)))}`);
    expect(delivered.size).toBe(CALLS);
    expect(records.every((record) => record.state === "succeeded")).toBe(true);
    expect(largest).toBeLessThanOrEqual(N);
    // Nothing left counted as queued: a call freed while Redis was down is freed by the reconciler within a minute.
    const countedAt = Date.now();
    await waitFor(async () => (await redis.cli("get", ctx.app.keys.orgQueued(ctx.tenant.orgId))) === "0", {
      timeoutMs: 60_000,
      message: "the org's queued count back to 0",
    });
    console.info(`queued count reconciled ${Date.now() - countedAt} ms after the last call ended`);
  });
});

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
