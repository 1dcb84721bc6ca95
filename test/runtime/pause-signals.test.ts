import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployConfig, waitForCallStates } from "../support/runtime.js";
import { startSink, type Sink, type SinkResponse } from "../support/sink.js";
import { useTestApp } from "../support/test-app.js";
import { startWorkerProcess, type WorkerProcess } from "../support/worker-process.js";

const ctx = useTestApp();
let sink: Sink;
let worker: WorkerProcess | undefined;
beforeAll(async () => {
  sink = await startSink();
  await deployConfig(ctx, { urlPattern: `${sink.url}/paused/*`, methods: ["POST"], maxThroughput: 200 });
  worker = await startWorkerProcess(ctx.app);
});
afterAll(async () => {
  await worker?.stop();
  await sink?.close();
});

/** Lower bound slack: the sink's clock and the worker's agree, but a timer may fire a hair early. */
const EARLY_MS = 50;

async function submit(path: string): Promise<{ callId: string; throttled: boolean }> {
  const res = await ctx.app.request().post("/runtime/calls").set(ctx.tenant.headers()).send({ method: "POST", url: `${sink.url}${path}` });
  expect(res.status).toBe(202);
  return res.body;
}

/**
 * The first call to `<prefix>/first` is answered `status` with `pauseHeaders(now)` once; while the lane is paused,
 * a second call on it is submitted. Returns when the pausing answer arrived, both final records, and later arrivals.
 */
async function pauseScenario(prefix: string, status: 429 | 503, pauseHeaders: (nowMs: number) => Record<string, string>) {
  sink.respond((arrival, countForPath) =>
    arrival.path === `${prefix}/first` && countForPath === 1 ? ({ status, headers: pauseHeaders(Date.now()) } satisfies SinkResponse) : {},
  );
  const first = await submit(`${prefix}/first`);
  await sink.waitForArrivals(1, { pathPrefix: prefix, timeoutMs: 5000 });
  await sleep(100); // the worker has read the answer and paused the lane
  const second = await submit(`${prefix}/second`);
  const records = await waitForCallStates(ctx, [first.callId, second.callId], ["succeeded", "failed"], 15_000);
  const pausedAt = sink.arrivalsFor(prefix)[0]!.at;
  const later = sink.arrivalsFor(prefix).slice(1);
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
