import { setTimeout as sleep } from "node:timers/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { deployConfig, useRuntime, waitForCallStates } from "../support/runtime.js";
import { gapsMs } from "../support/timing.js";
import { startSink, type SinkResponse } from "../support/sink.js";

const rt = useRuntime({ startSink });
const { ctx } = rt;
beforeAll(async () => {
  await deployConfig(ctx, { urlPattern: `${rt.sink.url}/paused/*`, methods: ["POST"], maxThroughput: 200 });
});

/** Lower bound slack: the sink's clock and the worker's agree, but a timer may fire a hair early. */
const EARLY_MS = 50;

async function submit(path: string): Promise<{ callId: string; throttled: boolean }> {
  const res = await ctx.app.request().post("/runtime/calls").set(ctx.tenant.headers()).send({ method: "POST", url: `${rt.sink.url}${path}` });
  expect(res.status).toBe(202);
  return res.body;
}

/**
 * The first call to `<prefix>/first` is answered `status` with `pauseHeaders(now)` once; while the lane is paused,
 * a second call on it is submitted. Returns when the pausing answer arrived, both final records, and later arrivals.
 */
async function pauseScenario(prefix: string, status: 429 | 503, pauseHeaders: (nowMs: number) => Record<string, string>) {
  rt.sink.respond((arrival, countForPath) =>
    arrival.path === `${prefix}/first` && countForPath === 1 ? ({ status, headers: pauseHeaders(Date.now()) } satisfies SinkResponse) : {},
  );
  const first = await submit(`${prefix}/first`);
  await rt.sink.waitForArrivals(1, { pathPrefix: prefix, timeoutMs: 5000 });
  await sleep(100); // the worker has read the answer and paused the lane
  const second = await submit(`${prefix}/second`);
  const records = await waitForCallStates(ctx, [first.callId, second.callId], ["succeeded", "failed"], 15_000);
  const pausedAt = rt.sink.arrivalsFor(prefix)[0]!.at;
  const later = rt.sink.arrivalsFor(prefix).slice(1);
  return { first, second, records, pausedAt, later };
}

describe("a pause signal on a 429/503 pauses the whole throttled queue, without costing an attempt", () => {
  it("Retry-After: 2 (delta-seconds)", async () => {
    const { first, second, records, pausedAt, later } = await pauseScenario("/paused/retry-after", 429, () => ({ "Retry-After": "2" }));
    expect(first.throttled && second.throttled).toBe(true);
    expect(later.map((a) => a.path).sort()).toEqual(["/paused/retry-after/first", "/paused/retry-after/second"]);
    for (const arrival of later) expect(arrival.at - pausedAt).toBeGreaterThanOrEqual(2000 - EARLY_MS);
    expect(records[0]).toMatchObject({ state: "succeeded", attempts: 1, response: { status: 200 } });
    expect(records[1]).toMatchObject({ state: "succeeded", attempts: 1 });
  });

  it("X-RateLimit-Reset as a unix timestamp in seconds (on a 503)", async () => {
    let resetAt = 0;
    const { records, later } = await pauseScenario("/paused/x-reset", 503, (now) => {
      resetAt = (Math.floor(now / 1000) + 3) * 1000; // 2–3 s ahead
      return { "X-RateLimit-Reset": String(resetAt / 1000) };
    });
    expect(later).toHaveLength(2);
    for (const arrival of later) expect(arrival.at).toBeGreaterThanOrEqual(resetAt - EARLY_MS);
    expect(records.map((r) => [r.state, r.attempts])).toEqual([["succeeded", 1], ["succeeded", 1]]);
  });

  it("Retry-After as an HTTP-date", async () => {
    let resumeAt = 0;
    const { records, later } = await pauseScenario("/paused/http-date", 429, (now) => {
      resumeAt = (Math.floor(now / 1000) + 3) * 1000;
      return { "Retry-After": new Date(resumeAt).toUTCString() };
    });
    expect(later).toHaveLength(2);
    for (const arrival of later) expect(arrival.at).toBeGreaterThanOrEqual(resumeAt - EARLY_MS);
    expect(records.map((r) => [r.state, r.attempts])).toEqual([["succeeded", 1], ["succeeded", 1]]);
  });
});

describe("unthrottled calls", () => {
  it("a Retry-After pauses further calls to the same origin", async () => {
    // Same origin, but the path does not match the deployed pattern: the unthrottled lane.
    const { first, second, records, pausedAt, later } = await pauseScenario("/free", 429, () => ({ "Retry-After": "2" }));
    expect([first.throttled, second.throttled]).toEqual([false, false]);
    expect(later).toHaveLength(2);
    for (const arrival of later) expect(arrival.at - pausedAt).toBeGreaterThanOrEqual(2000 - EARLY_MS);
    expect(records.map((r) => [r.state, r.attempts])).toEqual([["succeeded", 1], ["succeeded", 1]]);
  });
});

/**
 * A 429 or 503 with no hint pauses for 1 s, doubling up to 60 s, reset by the next 2xx (CONTRACT §6); it counts no
 * attempt. `answers` are given to the first arrivals at `path`; the call's arrivals and final record come back.
 */
async function backoffScenario(path: string, answers: SinkResponse[]) {
  rt.sink.respondSequence(path, answers);
  const { callId, throttled } = await submit(path);
  const [record] = await waitForCallStates(ctx, [callId], ["succeeded", "failed"], 20_000);
  return { throttled, record: record!, gaps: gapsMs(rt.sink.arrivalTimes(path)) };
}

/** Each gap at least its pause, and less than a second more. */
function expectGaps(gaps: number[], pausesMs: number[]) {
  expect(gaps).toHaveLength(pausesMs.length);
  gaps.forEach((gap, i) => {
    expect(gap).toBeGreaterThanOrEqual(pausesMs[i]! - EARLY_MS);
    expect(gap).toBeLessThan(pausesMs[i]! + 1000);
  });
}

describe("a 429 or 503 without a hint: backoff from 1 s, doubling, reset by a 2xx, no attempt counted", () => {
  it("throttled: 503, 503, 429 with no header, then 200: the tries are 1 s, 2 s and 4 s apart", async () => {
    const { throttled, record, gaps } = await backoffScenario("/paused/backoff/first", [{ status: 503 }, { status: 503 }, { status: 429 }]);
    expect(throttled).toBe(true);
    expectGaps(gaps, [1000, 2000, 4000]);
    expect(record).toMatchObject({ state: "succeeded", attempts: 1, response: { status: 200 } });
  });

  it("throttled: after that 2xx, the next hint-less 503 pauses 1 s again", async () => {
    const { record, gaps } = await backoffScenario("/paused/backoff/second", [{ status: 503 }]);
    expectGaps(gaps, [1000]);
    expect(record).toMatchObject({ state: "succeeded", attempts: 1 });
  });

  it("unthrottled: the call waits outside the worker and resumes after 1 s, then 2 s", async () => {
    const { throttled, record, gaps } = await backoffScenario("/free-backoff", [{ status: 503 }, { status: 503 }]);
    expect(throttled).toBe(false);
    expectGaps(gaps, [1000, 2000]);
    expect(record).toMatchObject({ state: "succeeded", attempts: 1 });
  });
});
