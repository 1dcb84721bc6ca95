import { describe, expect, it } from "vitest";
import { callsTo, deployConfig, submitBatch, waitForCallStates, useRuntime } from "../support/runtime.js";
import { startTimingSink } from "../support/timing-sink.js";
import { spanMs, stallAware } from "../support/timing.js";

const rt = useRuntime({ startSink: startTimingSink, workers: 2, scope: "test" });
const { ctx } = rt;

describe("throttled dispatch with two worker processes", () => {
  it("N=200 holds across both workers: 600 calls arrive, never more than 200 in a sliding second, over ~3 s", async () => {
    await deployConfig(ctx, { urlPattern: `${rt.sink.url}/shared/*`, methods: ["POST"], maxThroughput: 200 });

    const accepted = await submitBatch(ctx, callsTo(`${rt.sink.url}/shared/`, 600));
    expect(accepted.every((call) => call.throttled && call.runtimeVersion === 1)).toBe(true);

    await rt.sink.waitForArrivals(600, { pathPrefix: "/shared/", timeoutMs: 15_000 });
    const times = rt.sink.arrivalTimes("/shared/");
    const measured = stallAware(rt.sink.stalls);
    expect(measured.maxInWindow(times)).toBeLessThanOrEqual(200);
    expect(spanMs(times)).toBeGreaterThanOrEqual(2900 - measured.longestMs);
    expect(spanMs(times)).toBeLessThanOrEqual(3500 + measured.stalledMs(times[0]!, times.at(-1)!));

    // Each call was sent exactly once: no worker sent a call the other one had taken.
    const records = await waitForCallStates(ctx, accepted.map((call) => call.callId), ["succeeded"], 10_000);
    expect(records.every((record) => record.attempts === 1 && record.throttled && record.response?.status === 200)).toBe(true);
    expect(rt.sink.arrivals.filter((arrival) => arrival.path.startsWith("/shared/")).length).toBe(600);
  });
});
