import { describe, expect, it } from "vitest";
import { throttledLane } from "../../src/runtime/keys.js";
import { jsonLines } from "../process/sluice-process.js";
import { parseExposition, valueOf } from "../support/prometheus.js";
import { callsTo, deployConfig, getCall, submitBatch, undeploy, useRuntime, waitForCallStates, type CallInput } from "../support/runtime.js";
import { startSink } from "../support/sink.js";
import { waitFor } from "../support/timing.js";

// Every stage of a call's life in one file, run on one Redis and (in the cluster project) on a 3-master Redis Cluster,
// where a command spanning two slots fails: accept, send, retry, pause, expiry, idempotent replay, status, metrics,
// drain end and sweep. The retention is shortened to 3 s and the drain to 1 s.
const rt = useRuntime({ startSink, env: { SLUICE_TEST_RETENTION_MS: "3000", SLUICE_TEST_DRAIN_MS: "1000" } });
const { ctx } = rt;
const N = 200;

describe("a call's whole lifecycle", () => {
  it("runs every stage without an error in any process", async () => {
    const { uid } = await deployConfig(ctx, { urlPattern: `${rt.sink.url}/life/*`, methods: ["POST"], maxThroughput: N });
    const version = await ctx.app.db.runtimeVersion.findFirstOrThrow({ where: { configUid: uid } });
    rt.sink.respondSequence("/life/retry", [{ status: 500 }]);
    rt.sink.respondSequence("/life/pause", [{ status: 429, headers: { "retry-after": "1" } }]);
    const firsts: CallInput[] = [
      { method: "POST", url: `${rt.sink.url}/life/retry` },
      { method: "POST", url: `${rt.sink.url}/life/pause` },
      { method: "POST", url: `${rt.sink.url}/elsewhere/1` },
    ];
    const submit = () =>
      ctx.app.request().post("/runtime/calls/batch").set(ctx.tenant.headers()).set("Idempotency-Key", "lifecycle-1").send({ calls: firsts });
    const first = await submit();
    expect(first.status).toBe(202);
    const replayed = await submit();
    expect(replayed.status).toBe(202);
    const ids = (first.body.calls as { callId: string }[]).map((call) => call.callId);
    expect((replayed.body.calls as { callId: string }[]).map((call) => call.callId)).toEqual(ids);

    // 4 s of calls at N = 200 against a 3 s retention: the last ones expire.
    const backlog = await submitBatch(ctx, callsTo(`${rt.sink.url}/life/backlog/`, 4 * N));
    const [retried, paused, unthrottled] = await waitForCallStates(ctx, ids, ["succeeded"], 10_000);
    expect(retried).toMatchObject({ attempts: 2, throttled: true });
    expect(paused).toMatchObject({ attempts: 1, throttled: true });
    expect(unthrottled).toMatchObject({ attempts: 1, throttled: false });
    const settled = await waitForCallStates(ctx, backlog.map((call) => call.callId), ["succeeded", "expired"], 15_000);
    const expired = settled.filter((record) => record.state === "expired").length;
    expect(expired).toBeGreaterThan(0);
    expect(rt.sink.arrivalsFor("/life/backlog/")).toHaveLength(settled.length - expired);

    const config = await ctx.app.request().get(`/authoring/throttlingConfigs/${uid}`).set(ctx.tenant.headers());
    expect(config.status).toBe(200);
    expect(config.body.result.runtime).toMatchObject({ status: "active", queued: 0, expiredTotal: expired });
    const metrics = await ctx.app.request().get("/metrics");
    expect(metrics.status).toBe(200);
    const scraped = parseExposition(metrics.text);
    expect(valueOf(scraped, "sluice_runtime_stats_up", {})).toBe(1);
    expect(valueOf(scraped, "sluice_calls_expired_total", { runtime_version: version.id })).toBe(expired);
    expect(valueOf(scraped, "sluice_calls_retried_total", { runtime_version: version.id })).toBe(1);

    // A backlog left when the drain ends is dropped, and the version's queue and state are swept away.
    // More than the sweeper's page of 1,000 are left when the drain ends.
    const draining = await submitBatch(ctx, callsTo(`${rt.sink.url}/life/draining/`, 2500));
    await undeploy(ctx, uid);
    const ended = await waitForCallStates(ctx, draining.map((call) => call.callId), ["succeeded", "dropped"], 15_000);
    expect(ended.filter((record) => record.state === "dropped").length).toBeGreaterThan(0);
    await waitFor(async () => (await ctx.app.db.runtimeVersion.count({ where: { id: version.id } })) === 0, {
      timeoutMs: 10_000,
      message: "the drained version is deleted",
    });
    for (const pattern of ctx.app.keys.lanePatterns(throttledLane(version.id))) expect(await ctx.app.keysMatching(pattern)).toEqual([]);
    expect(await ctx.app.redis.get(ctx.app.keys.orgQueued(ctx.tenant.orgId))).toBe("0");
    expect(await ctx.app.redis.exists(ctx.app.keys.queueKey(throttledLane(version.id), "meta"))).toBe(0);
    // The records of its calls stay readable their 24 h, with what they named.
    const dropped = ended.find((record) => record.state === "dropped")!;
    expect(await getCall(ctx, dropped.callId)).toMatchObject({ state: "dropped", throttlingConfigUid: uid, runtimeVersion: version.version });
    expect(await ctx.app.redis.pttl(ctx.app.keys.laneInfo(throttledLane(version.id)))).toBeGreaterThan(23 * 3600_000);

    // Nothing failed along the way: no warning or error from any worker process (a cross-slot command would be one).
    const problems = rt.workers.flatMap((worker) => jsonLines(worker.process.stdout)).filter((line) => Number(line["level"]) >= 40);
    expect(problems).toEqual([]);
  });
});
