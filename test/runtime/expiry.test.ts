import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { callsTo, deployConfig, submitBatch, useRuntime, waitForCallStates } from "../support/runtime.js";
import { throttledLane } from "../../src/runtime/keys.js";
import { startSink } from "../support/sink.js";

// The 6 h retention, shortened for both halves: the API stamps acceptance, the worker enforces it.
const RETENTION_MS = 1500;
const RETENTION_ENV = { SLUICE_TEST_RETENTION_MS: String(RETENTION_MS) };
const N = 200;
const CALLS = 600;

const rt = useRuntime({ startSink, env: RETENTION_ENV });
const { ctx } = rt;

describe(`queue retention (${RETENTION_MS} ms here, 6 h in production)`, () => {
  it(`N=${N}, ${CALLS} calls: those not sent within the retention expire, are never sent, and leave nothing queued`, async () => {
    await deployConfig(ctx, { urlPattern: `${rt.sink.url}/exp/*`, methods: ["POST"], maxThroughput: N });
    const version = await ctx.app.db.runtimeVersion.findFirstOrThrow({ where: { orgId: ctx.tenant.orgId } });
    const accepted = await submitBatch(ctx, callsTo(`${rt.sink.url}/exp/`, CALLS));
    expect(accepted.every((call) => call.throttled)).toBe(true);

    const records = await waitForCallStates(ctx, accepted.map((c) => c.callId), ["succeeded", "expired"], 15_000);
    const sentBeforeRetention = rt.sink.arrivalsFor("/exp/").length;
    await sleep(RETENTION_MS);
    const arrivals = rt.sink.arrivalsFor("/exp/");
    expect(arrivals).toHaveLength(sentBeforeRetention);

    const succeeded = records.filter((r) => r.state === "succeeded");
    const expired = records.filter((r) => r.state === "expired");
    // About 1.5 s of sending at N=200/s; the sliding-window bound allows at most 2 N in any 1.5 s.
    expect(succeeded.length).toBeGreaterThanOrEqual(100);
    expect(succeeded.length).toBeLessThanOrEqual(310);
    expect(expired.length).toBe(CALLS - succeeded.length);
    // Exactly the succeeded calls reached the rt.sink, each once.
    expect(arrivals.map((a) => a.path).sort()).toEqual(succeeded.map((r) => new URL(r.url).pathname).sort());

    for (const record of expired) {
      expect(record).toMatchObject({ attempts: 0, error: expect.stringMatching(/retention/) });
      expect(record).not.toHaveProperty("sentAt");
      expect(Date.parse(record.completedAt!) - Date.parse(record.acceptedAt)).toBeGreaterThanOrEqual(RETENTION_MS);
    }

    const { redis, keys } = ctx.app;
    const lane = throttledLane(version.id);
    expect(await redis.llen(keys.queueKey(lane, "wait"))).toBe(0);
    expect(await redis.zcard(keys.queueKey(lane, "delayed"))).toBe(0);
    expect(await redis.llen(keys.queueKey(lane, "active"))).toBe(0);
    const jobHashes = await Promise.all(expired.map((record) => redis.exists(keys.queueKey(lane, record.callId))));
    expect(jobHashes.filter((exists) => exists === 1)).toEqual([]);
    expect(Number(await redis.get(keys.orgQueued(ctx.tenant.orgId)))).toBe(0);
  });

  it("expired calls take no slot: calls accepted afterwards are sent at once", async () => {
    const accepted = await submitBatch(ctx, callsTo(`${rt.sink.url}/exp/after/`, 50));
    const records = await waitForCallStates(ctx, accepted.map((c) => c.callId), ["succeeded", "expired"], 5000);
    expect(records.every((r) => r.state === "succeeded" && r.waitMs < 1000)).toBe(true);
  });
});
