import { describe, expect, it } from "vitest";
import { deployCapping } from "../../support/capping.js";
import { callsTo, deployConfig, submitBatch, useRuntime, waitForCallStates } from "../../support/runtime.js";
import { startTimingSink } from "../../support/timing-sink.js";
import { stallAware } from "../../support/timing.js";

const rt = useRuntime({ startSink: startTimingSink, workers: 1, scope: "test" });
const { ctx } = rt;

describe("a call matching both a capping config and the org's throttling config", () => {
  it("obeys both: 150/s for the capped calls, 200/s for them and the other throttled calls together", async () => {
    const throttling = await deployConfig(ctx, { urlPattern: `${rt.sink.url}/both/*`, methods: ["POST"], maxThroughput: 200 });
    const capping = await deployCapping(ctx, {
      url: `${rt.sink.url}/both/capped/*`,
      methods: ["POST"],
      services: { action: { rating: { maxCallsCount: 150, periodInMs: 1000 } } },
    });
    const capped = await submitBatch(ctx, callsTo(`${rt.sink.url}/both/capped/`, 300));
    const throttled = await submitBatch(ctx, callsTo(`${rt.sink.url}/both/free/`, 300));
    expect(capped[0]!.limitedBy).toEqual([
      { api: "capping", configUid: capping.uid, service: "action" },
      { api: "throttling", configUid: throttling.uid },
    ]);
    expect(capped[0]!.throttled).toBe(true);
    expect(throttled[0]!.limitedBy).toEqual([{ api: "throttling", configUid: throttling.uid }]);

    await rt.sink.waitForArrivals(600, { pathPrefix: "/both/", timeoutMs: 30_000 });
    const measured = stallAware(rt.sink.stalls);
    // If capped calls ignored the throttling config, the two lanes together would reach 350 a second.
    expect(measured.maxInWindow(rt.sink.arrivalTimes("/both/"), 1000)).toBeLessThanOrEqual(200);
    expect(measured.maxInWindow(rt.sink.arrivalTimes("/both/capped/"), 1000)).toBeLessThanOrEqual(150);

    const records = await waitForCallStates(ctx, capped.map((call) => call.callId), ["succeeded"], 10_000);
    expect(records.every((record) => record.limitedBy?.length === 2 && record.throttlingConfigUid === throttling.uid)).toBe(true);
  });
});
