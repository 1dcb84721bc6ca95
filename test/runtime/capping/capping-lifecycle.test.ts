import { describe, expect, it } from "vitest";
import { cappedLane } from "../../../src/runtime/keys.js";
import { jsonLines } from "../../process/sluice-process.js";
import { deleteCapping, deployCapping, deployCappingAgain, undeployCapping, updateCapping, type CappingValues } from "../../support/capping.js";
import { callsTo, getCall, submitBatch, useRuntime, waitForCallStates } from "../../support/runtime.js";
import { parseExposition, valueOf } from "../../support/prometheus.js";
import { startSink } from "../../support/sink.js";
import { spanMs, waitFor } from "../../support/timing.js";

// A capping config through deploy, redeploy, undeploy and a forced delete, on one Redis and (cluster project) on a
// Redis Cluster. The drain is shortened to 4 s.
const rt = useRuntime({ startSink, env: { SLUICE_TEST_DRAIN_MS: "4000" } });
const { ctx } = rt;

const limits = (maxCallsCount: number): CappingValues => ({
  url: `${rt.sink.url}/cap/*`,
  methods: ["POST"],
  services: { action: { rating: { maxCallsCount, periodInMs: 1000 } } },
});

describe("a capping config at runtime", () => {
  it("a redeploy applies new values to the same queue; undeploy drains; a deleted config's calls still end, then the drain's end drops the rest", async () => {
    const { uid } = await deployCapping(ctx, limits(2));
    const runtime = await ctx.app.db.cappingRuntime.findFirstOrThrow({ where: { configUid: uid } });
    const lane = cappedLane(runtime.id, "action");

    // Redeploy with new values: the calls that follow go at 20 a second instead of 2.
    await updateCapping(ctx, uid, limits(20));
    await deployCappingAgain(ctx, uid);
    expect(await ctx.app.db.cappingRuntime.findUniqueOrThrow({ where: { id: runtime.id } })).toMatchObject({ version: 2, status: "active" });
    const fast = await submitBatch(ctx, callsTo(`${rt.sink.url}/cap/fast/`, 20));
    expect(fast.every((call) => call.limitedBy?.[0]?.configUid === uid)).toBe(true);
    await waitForCallStates(ctx, fast.map((call) => call.callId), ["succeeded"], 10_000);
    // (At the deployed 2 a second they would take 10 s; the rate itself is measured by the timing tests.)
    expect(spanMs(rt.sink.arrivalTimes("/cap/fast/"))).toBeLessThan(3000);

    // Undeploy: the queued calls keep going at the config's limits; new calls no longer match it.
    const draining = await submitBatch(ctx, callsTo(`${rt.sink.url}/cap/draining/`, 30));
    await undeployCapping(ctx, uid);
    const [unmatched] = await submitBatch(ctx, callsTo(`${rt.sink.url}/cap/after/`, 1));
    expect(unmatched!.limitedBy).toBeUndefined();
    const config = await ctx.app.request().get(`/authoring/endpointConfigs/${uid}`).set(ctx.tenant.headers());
    expect(config.body.result.runtime).toMatchObject({ status: "draining", drainUntil: expect.any(String) });
    await waitForCallStates(ctx, draining.map((call) => call.callId), ["succeeded"], 10_000);
    expect(spanMs(rt.sink.arrivalTimes("/cap/draining/"))).toBeGreaterThan(1000);

    // A redeploy while it drains reactivates the same runtime; then a forced delete leaves its calls to end.
    await updateCapping(ctx, uid, limits(2));
    await deployCappingAgain(ctx, uid);
    // The workers pace by the new values from their next read of the runtimes (every 500 ms).
    await waitFor(async () => Number(await ctx.app.redis.get(ctx.app.keys.rate(lane))) < 3, { timeoutMs: 2000, message: "the new rate is in force" });
    const slow = await submitBatch(ctx, callsTo(`${rt.sink.url}/cap/slow/`, 20));
    await deleteCapping(ctx, uid, true);
    const ended = await waitForCallStates(ctx, slow.map((call) => call.callId), ["succeeded", "dropped"], 15_000);
    const sent = ended.filter((record) => record.state === "succeeded");
    // About 2 a second during the 4 s drain, then the rest dropped.
    expect(sent.length).toBeGreaterThanOrEqual(4);
    expect(sent.length).toBeLessThanOrEqual(12);
    expect(ended.filter((record) => record.state === "dropped").length).toBeGreaterThan(0);
    await waitFor(async () => (await ctx.app.db.cappingRuntime.count({ where: { id: runtime.id } })) === 0, {
      timeoutMs: 10_000,
      message: "the drained capping runtime is deleted",
    });
    for (const pattern of ctx.app.keys.lanePatterns(lane)) expect(await ctx.app.keysMatching(pattern)).toEqual([]);
    expect(await ctx.app.redis.get(ctx.app.keys.orgQueued(ctx.tenant.orgId))).toBe("0");
    // The records stay readable, naming the config that limited them.
    const dropped = ended.find((record) => record.state === "dropped")!;
    expect(await getCall(ctx, dropped.callId)).toMatchObject({ state: "dropped", limitedBy: [{ api: "capping", configUid: uid, service: "action" }] });

    const problems = rt.workers.flatMap((worker) => jsonLines(worker.process.stdout)).filter((line) => Number(line["level"]) >= 40);
    expect(problems).toEqual([]);
  });

  it("shows each capping config's queue, oldest call, sends and sends in flight on GET and /metrics", async () => {
    rt.sink.hang("/seen/hanging");
    const { uid } = await deployCapping(ctx, {
      url: `${rt.sink.url}/seen/*`,
      methods: ["POST"],
      services: { dataSource: { maxHttpConnections: 1, rating: { maxCallsCount: 100, periodInMs: 1000 } } },
    });
    // One call hangs at the target, holding the only connection: the other four wait behind it.
    const calls = [{ method: "POST", url: `${rt.sink.url}/seen/hanging` }, ...callsTo(`${rt.sink.url}/seen/`, 4)];
    await submitBatch(ctx, calls.map((call) => ({ ...call, service: "dataSource" as const })));
    await rt.sink.waitForArrivals(1, { pathPrefix: "/seen/hanging", timeoutMs: 5000 });
    const labels = { capping_config: uid, service: "dataSource" };
    let scraped = parseExposition("");
    const inFlight = (metrics: typeof scraped) =>
      metrics.samples.find((sample) => sample.name === "sluice_calls_in_flight" && sample.labels["capping_config"] === uid)?.value;
    await waitFor(async () => inFlight((scraped = parseExposition((await ctx.app.request().get("/metrics")).text))) === 1, {
      timeoutMs: 5000,
      message: "the hanging call shows in flight",
    });
    expect(valueOf(scraped, "sluice_calls_in_flight", labels)).toBe(1);
    expect(valueOf(scraped, "sluice_queue_depth", labels)).toBe(5);
    expect(valueOf(scraped, "sluice_queue_oldest_age_seconds", labels)).toBeGreaterThan(0);
    expect(valueOf(scraped, "sluice_calls_sent_total", labels)).toBe(1);
    const config = await ctx.app.request().get(`/authoring/endpointConfigs/${uid}`).set(ctx.tenant.headers());
    expect(config.body.result.runtime).toMatchObject({ version: 1, status: "active", queued: 5 });
  });

  it("applies a call's service: a dataSource call obeys the dataSource limits, an action call (the default) the action ones", async () => {
    const { uid } = await deployCapping(ctx, {
      url: `${rt.sink.url}/svc/*`,
      methods: ["GET"],
      services: { dataSource: { maxHttpConnections: 3, rating: { maxCallsCount: 5, periodInMs: 1000 } } },
    });
    const [data] = await submitBatch(ctx, [{ method: "GET", url: `${rt.sink.url}/svc/data`, service: "dataSource" }]);
    const [action] = await submitBatch(ctx, [{ method: "GET", url: `${rt.sink.url}/svc/action` }]);
    expect(data!.limitedBy).toEqual([{ api: "capping", configUid: uid, service: "dataSource" }]);
    expect(action!.limitedBy).toBeUndefined();
    const bad = await ctx.app.request().post("/runtime/calls").set(ctx.tenant.headers()).send({ method: "GET", url: `${rt.sink.url}/svc/x`, service: "other" });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body.error as string)).toMatchObject({ code: "ERR_CALL_INVALID" });
  });
});
