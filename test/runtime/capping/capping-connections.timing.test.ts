import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { deployCapping } from "../../support/capping.js";
import { callsTo, submitBatch, useRuntime, waitForCallStates } from "../../support/runtime.js";
import { startSink } from "../../support/sink.js";

const rt = useRuntime({ startSink, workers: 2, scope: "test" });
const { ctx } = rt;

describe("a capping config's maxHttpConnections, across two worker processes", () => {
  it("5 connections to a target that answers after 300 ms: never more than 5 requests in flight there, and 5 most of the time", async () => {
    let open = 0;
    let most = 0;
    rt.sink.respond(async () => {
      open++;
      most = Math.max(most, open);
      await sleep(300);
      open--;
      return {};
    });
    await deployCapping(ctx, {
      url: `${rt.sink.url}/slow/*`,
      methods: ["POST"],
      services: { action: { maxHttpConnections: 5, rating: { maxCallsCount: 1000, periodInMs: 1000 } } },
    });
    const started = Date.now();
    const accepted = await submitBatch(ctx, callsTo(`${rt.sink.url}/slow/`, 40));
    await waitForCallStates(ctx, accepted.map((call) => call.callId), ["succeeded"], 20_000);
    const tookMs = Date.now() - started;

    expect(most).toBe(5);
    // 40 calls 5 at a time take 8 rounds of 300 ms; a cap that lost connections would take far longer.
    expect(tookMs).toBeGreaterThanOrEqual(8 * 300);
    expect(tookMs).toBeLessThan(8 * 300 * 2.5);
  });
});
