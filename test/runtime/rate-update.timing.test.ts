import { describe, expect, it } from "vitest";
import { callsTo, deployConfig, submitBatch, updateConfig, useRuntime } from "../support/runtime.js";
import { startThreadedSink } from "../support/threaded-sink.js";
import { countInWindow, maxInSlidingWindow, preciseNow, waitFor } from "../support/timing.js";

const rt = useRuntime({ startSink: startThreadedSink });
const { ctx } = rt;

describe("updating a deployed config's rate", () => {
  it("200 → 400 mid-backlog: the new rate holds within a second, without a restart, and the old one until then", async () => {
    const config = { urlPattern: `${rt.sink.url}/upd/*`, methods: ["POST"], maxThroughput: 200 };
    const { uid } = await deployConfig(ctx, config);
    await submitBatch(ctx, callsTo(`${rt.sink.url}/upd/`, 1600));

    await rt.sink.waitForArrivals(1, { pathPrefix: "/upd/", timeoutMs: 5000 });
    const firstArrival = rt.sink.arrivalTimes("/upd/")[0]!;
    await waitFor(() => preciseNow() >= firstArrival + 1500, { timeoutMs: 3000 });
    // The new rate may apply from the moment the PUT is sent; it must apply from its response on.
    const updateSentAt = preciseNow();
    expect(await updateConfig(ctx, uid, { ...config, maxThroughput: 400 })).toBe("deployed");
    const updatedAt = preciseNow();

    await rt.sink.waitForArrivals(1600, { pathPrefix: "/upd/", timeoutMs: 20_000 });
    const times = rt.sink.arrivalTimes("/upd/");
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
