import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callsTo, deployConfig, submitBatch, updateConfig } from "../support/runtime.js";
import { startThreadedSink, type ThreadedSink } from "../support/threaded-sink.js";
import { useTestApp } from "../support/test-app.js";
import { countInWindow, maxInSlidingWindow, preciseNow, waitFor } from "../support/timing.js";
import { startWorkerProcess, type WorkerProcess } from "../support/worker-process.js";

const ctx = useTestApp();
let sink: ThreadedSink;
let worker: WorkerProcess | undefined;
beforeAll(async () => {
  sink = await startThreadedSink();
  worker = await startWorkerProcess(ctx.app);
});
afterAll(async () => {
  await worker?.stop();
  await sink?.close();
});

describe("updating a deployed config's rate", () => {
  it("200 → 400 mid-backlog: the new rate holds within a second, without a restart, and the old one until then", async () => {
    const config = { urlPattern: `${sink.url}/upd/*`, methods: ["POST"], maxThroughput: 200 };
    const { uid } = await deployConfig(ctx, config);
    await submitBatch(ctx, callsTo(`${sink.url}/upd/`, 1600));

    await sink.waitForArrivals(1, { pathPrefix: "/upd/", timeoutMs: 5000 });
    const firstArrival = sink.arrivalTimes("/upd/")[0]!;
    await waitFor(() => preciseNow() >= firstArrival + 1500, { timeoutMs: 3000 });
    // The new rate may apply from the moment the PUT is sent; it must apply from its response on.
    const updateSentAt = preciseNow();
    expect(await updateConfig(ctx, uid, { ...config, maxThroughput: 400 })).toBe("deployed");
    const updatedAt = preciseNow();

    await sink.waitForArrivals(1600, { pathPrefix: "/upd/", timeoutMs: 20_000 });
    const times = sink.arrivalTimes("/upd/");
    const before = countInWindow(times, updateSentAt - 1000, updateSentAt);
    const secondAfter = countInWindow(times, updatedAt + 1000, updatedAt + 2000);
    expect(before).toBeGreaterThanOrEqual(180);
    expect(before).toBeLessThanOrEqual(200);
    expect(secondAfter).toBeGreaterThanOrEqual(360);
    expect(secondAfter).toBeLessThanOrEqual(400);
    expect(maxInSlidingWindow(times.filter((t) => t < updateSentAt))).toBeLessThanOrEqual(200);
    expect(maxInSlidingWindow(times)).toBeLessThanOrEqual(400);
  });
});
