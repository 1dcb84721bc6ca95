import { Queue } from "bullmq";
import { describe, expect, it } from "vitest";
import { CallStore } from "../../src/runtime/call-store.js";
import { limitedLaneOfCall, splitCallId, throttledLane, type ThrottledLane } from "../../src/runtime/keys.js";
import { OrgBudget } from "../../src/runtime/org-budget.js";
import { Pacer } from "../../src/runtime/dispatch/pacer.js";
import { RECORD_TTL_MS } from "../../src/runtime/settings.js";
import { callsTo, deployConfig, getCall, submitBatch, useRuntime } from "../support/runtime.js";
import { startSink } from "../support/sink.js";
import { memoryUsage } from "../support/test-app.js";

// How a queued call is kept (one BullMQ job, which is also its record) and read back, with no worker running.
const rt = useRuntime({ startSink, workers: 0 });
const { ctx } = rt;
const BODY = "b".repeat(200);
const store = () => new CallStore(ctx.app.redis, ctx.app.keys, new OrgBudget(ctx.app.redis, ctx.app.keys, RECORD_TTL_MS));

let deployed: Promise<{ uid: string }> | undefined;

async function queuedThrottled(count: number, path: string) {
  deployed ??= deployConfig(ctx, { urlPattern: `${rt.sink.url}/store/*`, methods: ["POST"], maxThroughput: 200 });
  const { uid } = await deployed;
  const calls = callsTo(`${rt.sink.url}/store/${path}/`, count).map((call) => ({ ...call, body: BODY }));
  return { uid, accepted: await submitBatch(ctx, calls) };
}

describe("a queued call", () => {
  it("is one BullMQ job and no other key, at most 1.2 × the memory of a plain BullMQ job with the same request", async () => {
    const { accepted } = await queuedThrottled(20, "size");
    const { keys, redis } = ctx.app;
    const versionId = (limitedLaneOfCall(accepted[0]!.callId) as ThrottledLane).runtimeVersionId;
    const laneKeys = await ctx.app.keysMatching(keys.queueKey(throttledLane(versionId), "*"));
    const jobKeys = accepted.map((call) => keys.job(call.callId));
    expect(laneKeys.filter((key) => !jobKeys.includes(key)).map((key) => key.split(":").pop())).toEqual(
      expect.arrayContaining(["wait"]),
    );
    expect(await ctx.app.keysMatching(`${ctx.app.redisPrefix}:rt:*:call:*`)).toEqual([]);

    // Its name is a hash tag, as BullMQ requires on a cluster.
    const raw = new Queue("{raw}", { connection: redis, prefix: `${ctx.app.redisPrefix}:raw` });
    const rawJobs = await raw.addBulk(accepted.map((_, i) => ({ name: "call", data: { method: "POST", url: `${rt.sink.url}/store/size/${i}`, body: BODY } })));
    const usage = (key: string) => memoryUsage(redis, key);
    const sluice = (await Promise.all(jobKeys.map(usage))).reduce((a, b) => a + b, 0);
    const plain = (await Promise.all(rawJobs.map((job) => usage(raw.toKey(job.id!))))).reduce((a, b) => a + b, 0);
    await raw.obliterate({ force: true });
    await raw.close();
    expect(sluice / plain).toBeLessThanOrEqual(1.2);
  });

  it("is readable by its org only; a foreign or hostile id is simply not found", async () => {
    const { accepted, uid } = await queuedThrottled(1, "owner");
    const callId = accepted[0]!.callId;
    expect(await getCall(ctx, callId)).toMatchObject({ state: "queued", throttled: true, throttlingConfigUid: uid, attempts: 0 });
    const other = await ctx.app.createTenant();
    const foreign = await ctx.app.request().get(`/runtime/calls/${callId}`).set(other.headers());
    expect(foreign.status).toBe(404);
    expect(await store().get(callId, other.orgId)).toBeUndefined();
    for (const hostile of ["{x}.y", `${splitCallId(callId)[0]}{.}`, "rv-.", ".", "u-{}.{}", "x".repeat(3000)]) {
      const res = await ctx.app.request().get(`/runtime/calls/${encodeURIComponent(hostile)}`).set(ctx.tenant.headers());
      expect(res.status, hostile).toBe(404);
    }
  });

  it("rolled back: never read, never sent, finished by nobody, and its org's capacity is not freed twice", async () => {
    const { accepted } = await queuedThrottled(1, "rollback");
    const callId = accepted[0]!.callId;
    const calls = store();
    await calls.rollBack([callId]);
    const res = await ctx.app.request().get(`/runtime/calls/${callId}`).set(ctx.tenant.headers());
    expect(res.status).toBe(404);
    const lane = limitedLaneOfCall(callId)!;
    const queued = Number(await ctx.app.redis.get(ctx.app.keys.orgQueued(ctx.tenant.orgId)));
    expect(await calls.finish(callId, ctx.tenant.orgId, lane, { state: "failed", error: "x" })).toBe("ended-before");
    expect(Number(await ctx.app.redis.get(ctx.app.keys.orgQueued(ctx.tenant.orgId)))).toBe(queued);
    const begun = await new Pacer(ctx.app.redis, ctx.app.keys).begin(lane, rt.sink.url, callId, "send-1");
    expect(begun).toEqual({ kind: "gone" });
  });

  it("finished: one compact record with what the job said, once; the job no longer counts", async () => {
    const { accepted, uid } = await queuedThrottled(1, "finish");
    const callId = accepted[0]!.callId;
    const calls = store();
    const lane = limitedLaneOfCall(callId)!;
    const before = Number(await ctx.app.redis.get(ctx.app.keys.orgQueued(ctx.tenant.orgId)));
    const response = { status: 502, headers: { "content-type": "text/plain", connection: "close" }, bodyPreview: "bad gateway" };
    expect(await calls.finish(callId, ctx.tenant.orgId, lane, { state: "failed", response, error: "HTTP 502" })).toBe("finished");
    expect(await calls.finish(callId, ctx.tenant.orgId, lane, { state: "expired", error: "late" })).toBe("ended-before");
    expect(Number(await ctx.app.redis.get(ctx.app.keys.orgQueued(ctx.tenant.orgId)))).toBe(before - 1);
    expect(await getCall(ctx, callId)).toEqual({
      callId,
      state: "failed",
      throttled: true,
      throttlingConfigUid: uid,
      runtimeVersion: expect.any(Number),
      limitedBy: [{ api: "throttling", configUid: uid }],
      method: "POST",
      url: `${rt.sink.url}/store/finish/0`,
      attempts: 0,
      acceptedAt: expect.any(String),
      completedAt: expect.any(String),
      waitMs: expect.any(Number),
      response: { status: 502, headers: { "content-type": "text/plain" }, bodyPreview: "bad gateway" },
      error: "HTTP 502",
    });
    expect(await ctx.app.redis.type(ctx.app.keys.call(callId))).toBe("string");
    expect(await ctx.app.redis.pttl(ctx.app.keys.call(callId))).toBeGreaterThan(23 * 3600_000);
  });
});
