import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callsTo, deployConfig, submitBatch, waitForCallStates } from "../support/runtime.js";
import { startThreadedSink, type ThreadedSink } from "../support/threaded-sink.js";
import { useTestApp } from "../support/test-app.js";
import { maxInSlidingWindow, spanMs } from "../support/timing.js";
import { startWorkerProcess, type WorkerProcess } from "../support/worker-process.js";

const ctx = useTestApp();
let sink: ThreadedSink;
const workers: WorkerProcess[] = [];
beforeAll(async () => {
  sink = await startThreadedSink();
  workers.push(...(await Promise.all([startWorkerProcess(ctx.app), startWorkerProcess(ctx.app)])));
});
afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.stop()));
  await sink?.close();
});

describe("throttled dispatch with two worker processes", () => {
  it("N=200 holds across both workers: 600 calls arrive, never more than 200 in a sliding second, over ~3 s", async () => {
    await deployConfig(ctx, { urlPattern: `${sink.url}/shared/*`, methods: ["POST"], maxThroughput: 200 });

    const accepted = await submitBatch(ctx, callsTo(`${sink.url}/shared/`, 600));
    expect(accepted.every((call) => call.throttled && call.runtimeVersion === 1)).toBe(true);

    await sink.waitForArrivals(600, { pathPrefix: "/shared/", timeoutMs: 15_000 });
    const times = sink.arrivalTimes("/shared/");
    expect(maxInSlidingWindow(times)).toBeLessThanOrEqual(200);
    expect(spanMs(times)).toBeGreaterThanOrEqual(2900);
    expect(spanMs(times)).toBeLessThanOrEqual(3500);

    // Each call was sent exactly once: no worker sent a call the other one had taken.
    const records = await waitForCallStates(ctx, accepted.map((call) => call.callId), ["succeeded"], 10_000);
    expect(records.every((record) => record.attempts === 1 && record.throttled && record.response?.status === 200)).toBe(true);
    expect(sink.arrivals.filter((arrival) => arrival.path.startsWith("/shared/")).length).toBe(600);
  });
});
