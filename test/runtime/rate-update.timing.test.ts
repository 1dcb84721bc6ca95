import { describe, expect, it } from "vitest";
import { callsTo, deployConfig, submitBatch, updateConfig, useRuntime } from "../support/runtime.js";
import { startTimingSink } from "../support/timing-sink.js";
import { countInWindow, preciseNow, stallAware, waitFor } from "../support/timing.js";

const rt = useRuntime({ startSink: startTimingSink, scope: "test" });
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
    const measured = stallAware(rt.sink.stalls);
    const [before, secondAfter] = [[updateSentAt - 1000, updateSentAt], [updatedAt + 1000, updatedAt + 2000]] as const;
    expect(countInWindow(times, ...before)).toBeGreaterThanOrEqual(measured.floor(180, 200, ...before));
    expect(measured.countAtMost(times, ...before)).toBeLessThanOrEqual(200);
    expect(countInWindow(times, ...secondAfter)).toBeGreaterThanOrEqual(measured.floor(360, 400, ...secondAfter));
    expect(measured.countAtMost(times, ...secondAfter)).toBeLessThanOrEqual(400);
    expect(measured.maxInWindow(times.filter((t) => t < updateSentAt))).toBeLessThanOrEqual(200);
    expect(measured.maxInWindow(times)).toBeLessThanOrEqual(400);
  });
});
