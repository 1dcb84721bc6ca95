import { setTimeout as sleep } from "node:timers/promises";
import { Queue } from "bullmq";
import { describe, expect, it } from "vitest";
import { callIdOf, unthrottledLane } from "../../src/runtime/keys.js";
import { waitForCallStates, useRuntime } from "../support/runtime.js";
import { startSink, type SinkResponse } from "../support/sink.js";
import { waitFor } from "../support/timing.js";

// Unthrottled calls (no config deployed): the send/retry rules are the same on every lane. (429 and 503 are not
// retries but pauses: see pause-signals.test.ts.)
const rt = useRuntime({ startSink });
const { ctx } = rt;

async function submit(path: string, extra: object = {}): Promise<string> {
  const call = { method: "POST", url: `${rt.sink.url}${path}`, body: { path }, ...extra };
  const res = await ctx.app.request().post("/runtime/calls").set(ctx.tenant.headers()).send(call);
  expect(res.status).toBe(202);
  return res.body.callId as string;
}

/** The record once the call succeeded or failed (the only ends a call with a live target can have). */
const finalRecord = async (callId: string) => (await waitForCallStates(ctx, [callId], ["succeeded", "failed"], 10_000))[0]!;

const statuses = (...codes: number[]): SinkResponse[] => codes.map((status) => ({ status, body: `{"status":${status}}` }));

describe("retries (1 send + up to 3 retries)", () => {
  it("500 three times then 200: succeeded after 4 attempts", async () => {
    rt.sink.respondSequence("/retry/recovers", statuses(500, 500, 500));
    const record = await finalRecord(await submit("/retry/recovers"));
    expect(record).toMatchObject({ state: "succeeded", attempts: 4, response: { status: 200 } });
    expect(rt.sink.arrivalsFor("/retry/recovers")).toHaveLength(4);
  });

  it("every attempt carries the same Sluice-Call-Id, which replaces one the caller gave (CONTRACT §10)", async () => {
    rt.sink.respondSequence("/retry/call-id", statuses(500, 502));
    const callId = await submit("/retry/call-id", { headers: { "sluice-CALL-id": "forged", "X-Other": "kept" } });
    expect(await finalRecord(callId)).toMatchObject({ state: "succeeded", attempts: 3 });
    const arrivals = rt.sink.arrivalsFor("/retry/call-id");
    expect(arrivals.map((arrival) => arrival.headers["sluice-call-id"])).toEqual([callId, callId, callId]);
    expect(arrivals.every((arrival) => arrival.headers["x-other"] === "kept")).toBe(true);
  });

  it("500 four times: failed after exactly 4 sends, with the last response", async () => {
    rt.sink.respondSequence("/retry/exhausted", statuses(500, 500, 500, 500, 200));
    const record = await finalRecord(await submit("/retry/exhausted"));
    expect(record).toMatchObject({ state: "failed", attempts: 4, response: { status: 500, bodyPreview: '{"status":500}' } });
    await sleep(1000);
    expect(rt.sink.arrivalsFor("/retry/exhausted")).toHaveLength(4);
  });

  it("retries other errors too: 502, 504 and 408, then 200", async () => {
    rt.sink.respondSequence("/retry/other", statuses(502, 504, 408));
    const record = await finalRecord(await submit("/retry/other"));
    expect(record).toMatchObject({ state: "succeeded", attempts: 4 });
    expect(rt.sink.arrivalsFor("/retry/other")).toHaveLength(4);
  });

  it.each([404, 401, 403])("%i: failed after exactly 1 send, never retried", async (status) => {
    const path = `/retry/final-${status}`;
    rt.sink.respondSequence(path, statuses(status));
    const record = await finalRecord(await submit(path));
    expect(record).toMatchObject({ state: "failed", attempts: 1, response: { status } });
    await sleep(700);
    expect(rt.sink.arrivalsFor(path)).toHaveLength(1);
  });
});

describe("timeoutMs", () => {
  it("a target that never answers: failed with a timeout error once the 1000 ms budget is spent", async () => {
    rt.sink.hang("/retry/hang");
    const record = await finalRecord(await submit("/retry/hang", { timeoutMs: 1000 }));
    expect(record.state).toBe("failed");
    expect(record.error).toMatch(/timeout/i);
    const sendToEnd = Date.parse(record.completedAt!) - Date.parse(record.sentAt!);
    expect(sendToEnd).toBeGreaterThanOrEqual(950);
    expect(sendToEnd).toBeLessThan(1500);
    // The budget covers every attempt: no retry after it is spent.
    expect(record.attempts).toBe(1);
    expect(rt.sink.arrivalsFor("/retry/hang")).toHaveLength(1);
  });

  it("no retry when its backoff would use up the rest of the budget: it would go out with no time to answer", async () => {
    rt.sink.respondSequence("/retry/late", [{ status: 500, delayMs: 850 }]);
    const record = await finalRecord(await submit("/retry/late", { timeoutMs: 1000 }));
    expect(record).toMatchObject({ state: "failed", attempts: 1, error: "HTTP 500" });
    expect(rt.sink.arrivalsFor("/retry/late")).toHaveLength(1);
  });

  it("retries stop when the budget is spent even if attempts remain", async () => {
    rt.sink.respondSequence("/retry/slow", [
      { status: 500, delayMs: 700 },
      { status: 500, delayMs: 700 },
      { status: 500, delayMs: 700 },
    ]);
    const record = await finalRecord(await submit("/retry/slow", { timeoutMs: 1000 }));
    expect(record.state).toBe("failed");
    expect(record.attempts).toBeLessThan(4);
    expect(rt.sink.arrivalsFor("/retry/slow").length).toBe(record.attempts);
  });
});

describe("a dispatch that keeps crashing", () => {
  it("ends its call failed once BullMQ's attempts are spent, and leaves no job behind", async () => {
    // A real call first, so that the worker serves the org's lane; then a job the dispatcher cannot handle.
    await finalRecord(await submit("/crash/warm-up"));
    const lane = unthrottledLane(ctx.tenant.orgId);
    const { keys, redis } = ctx.app;
    const queue = new Queue(keys.queueName(lane), { connection: redis, prefix: keys.bullPrefix });
    const jobId = "crashcrashcrash1";
    await queue.add("POST not-a-url 10", { orgId: ctx.tenant.orgId }, { jobId, attempts: 2, backoff: 50 });
    await queue.close();
    const callId = callIdOf(lane, jobId);
    const [record] = await waitForCallStates(ctx, [callId], ["failed"], 10_000);
    expect(record).toMatchObject({ state: "failed", method: "POST", url: "not-a-url", error: expect.stringMatching(/^internal error: /) });
    await waitFor(async () => (await redis.exists(keys.job(callId))) === 0, { timeoutMs: 5000, message: "the failed job removed" });
    expect(await redis.zcard(keys.queueKey(lane, "failed"))).toBe(0);
  });
});
