import { describe, expect, it } from "vitest";
import { deployCapping } from "../../support/capping.js";
import { callsTo, submitBatch, useRuntime, waitForCallStates } from "../../support/runtime.js";
import { startTimingSink } from "../../support/timing-sink.js";
import { countInWindow, stallAware } from "../../support/timing.js";

const rt = useRuntime({ startSink: startTimingSink, workers: 1, scope: "test" });
const { ctx } = rt;

describe("a capping config's sliding window, measured at the endpoint", () => {
  it("maxCallsCount 20 per periodInMs 2,000 with a backlog of 100: never more than 20 in any sliding 2 s, at least 19 per 2 s while it lasts", async () => {
    const { uid } = await deployCapping(ctx, {
      url: `${rt.sink.url}/capped/*`,
      methods: ["POST"],
      services: { action: { rating: { maxCallsCount: 20, periodInMs: 2000 } } },
    });
    const accepted = await submitBatch(ctx, callsTo(`${rt.sink.url}/capped/`, 100));
    expect(accepted.every((call) => call.limitedBy?.length === 1 && call.limitedBy[0]!.configUid === uid && !call.throttled)).toBe(true);

    await rt.sink.waitForArrivals(100, { pathPrefix: "/capped/", timeoutMs: 30_000 });
    const times = rt.sink.arrivalTimes("/capped/");
    const measured = stallAware(rt.sink.stalls);
    expect(measured.maxInWindow(times, 2000)).toBeLessThanOrEqual(20);
    for (let from = times[0]!; from + 2000 <= times.at(-1)!; from += 50) {
      expect(countInWindow(times, from, from + 2000)).toBeGreaterThanOrEqual(Math.floor(measured.floor(19, 10, from, from + 2000)));
    }

    const records = await waitForCallStates(ctx, accepted.map((call) => call.callId), ["succeeded"], 10_000);
    expect(records.every((record) => record.attempts === 1 && record.limitedBy?.[0]?.api === "capping" && record.limitedBy[0].service === "action")).toBe(true);
  });
});
