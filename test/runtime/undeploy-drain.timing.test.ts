import { describe, expect, it } from "vitest";
import { callsTo, deployConfig, submitBatch, undeploy, useRuntime, waitForCallStates } from "../support/runtime.js";
import { laneId, throttledLane } from "../../src/runtime/keys.js";
import { startTimingSink } from "../support/timing-sink.js";
import { countInWindow, preciseNow, stallAware, waitFor } from "../support/timing.js";

const DRAIN_ENV = { SLUICE_TEST_DRAIN_MS: "3000" };
const rt = useRuntime({ startSink: startTimingSink, env: DRAIN_ENV, scope: "test" });
const { ctx } = rt;

describe("undeploying a config with a backlog", () => {
  it("drains at the old rate while new calls go unthrottled, then drops the rest and deletes the version", async () => {
    const { uid } = await deployConfig(ctx, { urlPattern: `${rt.sink.url}/drain/*`, methods: ["POST"], maxThroughput: 200 });
    const { id: versionId } = await ctx.app.db.runtimeVersion.findFirstOrThrow({ where: { configUid: uid } });
    const backlog = await submitBatch(ctx, callsTo(`${rt.sink.url}/drain/queued/`, 1000));

    await rt.sink.waitForArrivals(1, { pathPrefix: "/drain/queued/", timeoutMs: 5000 });
    await waitFor(() => preciseNow() >= rt.sink.arrivalTimes("/drain/queued/")[0]! + 1000, { timeoutMs: 3000 });
    await undeploy(ctx, uid);
    const undeployedAt = preciseNow();
    const { drainUntil } = await ctx.app.db.runtimeVersion.findUniqueOrThrow({ where: { id: versionId } });
    const drainEnd = drainUntil!.getTime();

    const [fresh] = await submitBatch(ctx, callsTo(`${rt.sink.url}/drain/fresh/`, 1));
    expect(fresh).toMatchObject({ throttled: false });
    expect(fresh).not.toHaveProperty("runtimeVersion");
    const [freshArrival] = await rt.sink.waitForArrivals(1, { pathPrefix: "/drain/fresh/", timeoutMs: 1000 });
    // Ahead of the backlog, which still has seconds to go at 200 per second.
    expect(freshArrival!.at).toBeLessThan(drainEnd - 1000);

    await waitFor(async () => (await ctx.app.db.runtimeVersion.count({ where: { id: versionId } })) === 0, {
      timeoutMs: 15_000,
      intervalMs: 100,
      message: "the drained runtime version's row is deleted",
    });
    const times = rt.sink.arrivalTimes("/drain/queued/");
    const measured = stallAware(rt.sink.stalls);
    expect(measured.maxInWindow(times)).toBeLessThanOrEqual(200);
    const draining = [undeployedAt + 500, undeployedAt + 1500] as const;
    expect(countInWindow(times, ...draining)).toBeGreaterThanOrEqual(measured.floor(180, 200, ...draining));
    // Nothing is sent once the drain ended (a send already under way may land a few ms late).
    expect(times.filter((t) => t >= drainEnd + 50)).toEqual([]);

    const records = await waitForCallStates(ctx, backlog.map((call) => call.callId), ["succeeded", "dropped"], 10_000);
    const succeeded = records.filter((record) => record.state === "succeeded").length;
    expect(succeeded).toBe(times.length);
    expect(records.length - succeeded).toBeGreaterThan(0);
    expect(rt.sink.arrivalTimes("/drain/queued/")).toHaveLength(times.length);

    for (const pattern of ctx.app.keys.lanePatterns(throttledLane(versionId))) expect(await ctx.app.keysMatching(pattern)).toEqual([]);
    // The records of the dropped calls stay their 24 h.
    expect(await ctx.app.keysMatching(ctx.app.keys.call(`${laneId(throttledLane(versionId))}.*`))).toHaveLength(records.length);
  });
});
