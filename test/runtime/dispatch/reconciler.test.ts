import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { CallStore } from "../../../src/runtime/call-store.js";
import { Reconciler } from "../../../src/runtime/dispatch/reconciler.js";
import { laneId, newCallId, splitCallId, unthrottledLane } from "../../../src/runtime/keys.js";
import { OrgBudget } from "../../../src/runtime/org-budget.js";
import { RuntimeQueues } from "../../../src/runtime/queues.js";
import { RECORD_TTL_MS } from "../../../src/runtime/settings.js";
import { UnthrottledLanes } from "../../../src/runtime/unthrottled-lanes.js";
import { createLogger } from "../../../src/shared/logger.js";
import { getCall, useRuntime } from "../../support/runtime.js";
import { startSink } from "../../support/sink.js";

// CONTRACT §10: the org's queued count equals its non-terminal calls whatever crashed, and no call stays non-terminal
// past its retention. No worker process runs here: each test crashes something by hand, then runs one pass.
const RETENTION_MS = 1500;
const rt = useRuntime({ startSink, workers: 0, env: { SLUICE_TEST_RETENTION_MS: String(RETENTION_MS) } });
const { ctx } = rt;

function stores() {
  const { db, redis, keys } = ctx.app;
  const budget = new OrgBudget(redis, keys, RETENTION_MS + RECORD_TTL_MS);
  const records = new CallStore(redis, keys, budget);
  const queues = new RuntimeQueues(redis, keys);
  const unthrottled = new UnthrottledLanes(redis, keys, RETENTION_MS);
  const reconciler = new Reconciler({ db, redis, keys, queues, records, budget, unthrottled, logger: createLogger("silent"), retentionMs: RETENTION_MS });
  return { budget, reconciler };
}

const queued = async (orgId: string) => {
  const [calls, bytes] = await Promise.all([ctx.app.redis.zcard(ctx.app.keys.orgLive(orgId)), ctx.app.redis.get(ctx.app.keys.orgQueuedBytes(orgId))]);
  return { calls, bytes: Number(bytes ?? 0) };
};

describe("the reconciler", () => {
  it("frees room an API reserved and never filled (it died before writing the calls), once its grace has passed", async () => {
    const tenant = await ctx.app.createTenant();
    const { budget, reconciler } = stores();
    const lane = unthrottledLane(tenant.orgId);
    const ghosts = [newCallId(lane), newCallId(lane)];
    const reserved = await budget.reserve(tenant.orgId, ghosts.map((callId) => ({ callId, bytes: 500 })), [laneId(lane)], { maxCalls: 10, maxBytes: 10_000 });
    expect(reserved).toBe("reserved");
    expect(await queued(tenant.orgId)).toEqual({ calls: 2, bytes: 1000 });
    // Within its grace the acceptance may still be writing the calls.
    await reconciler.reconcile(10_000);
    expect(await queued(tenant.orgId)).toEqual({ calls: 2, bytes: 1000 });
    await sleep(RETENTION_MS + 100);
    await reconciler.reconcile(10_000);
    expect(await queued(tenant.orgId)).toEqual({ calls: 0, bytes: 0 });
    expect(await ctx.app.redis.zcard(ctx.app.keys.orgReserving(tenant.orgId))).toBe(0);
  });

  it("keeps counted a call whose API wrote it and died before settling its reservation", async () => {
    const tenant = await ctx.app.createTenant();
    const { reconciler } = stores();
    const res = await ctx.app.request().post("/runtime/calls").set(tenant.headers()).send({ method: "GET", url: `${rt.sink.url}/reconcile/written` });
    const callId = res.body.callId as string;
    await ctx.app.redis.zadd(ctx.app.keys.orgReserving(tenant.orgId), 0, callId);
    await reconciler.reconcile(10_000);
    expect((await queued(tenant.orgId)).calls).toBe(1);
    expect(await ctx.app.redis.zcard(ctx.app.keys.orgReserving(tenant.orgId))).toBe(0);
  });

  it("frees a call that ended without being freed (its worker died in between), and keeps live calls counted", async () => {
    const tenant = await ctx.app.createTenant();
    const { budget, reconciler } = stores();
    const submit = async (path: string) => {
      const res = await ctx.app.request().post("/runtime/calls").set(tenant.headers()).send({ method: "POST", url: `${rt.sink.url}${path}`, body: "x" });
      expect(res.status).toBe(202);
      return res.body.callId as string;
    };
    const ended = await submit("/reconcile/ended");
    const live = await submit("/reconcile/live");
    expect((await queued(tenant.orgId)).calls).toBe(2);
    // What a worker leaves when it dies right after ending a call: the job ended, the record written, the call noted
    // as unreleased in its lane, and still counted in its org.
    const [lane, own] = splitCallId(ended);
    await ctx.app.redis.eval(
      `redis.call('HSET', KEYS[1], 'call.state', 'succeeded'); redis.call('SET', KEYS[2], '["succeeded",1,0,0,0,"POST","x",null,null]')`,
      2, ctx.app.keys.job(ended), ctx.app.keys.call(ended),
    );
    await ctx.app.redis.zadd(ctx.app.keys.unreleased(lane), 0, own);
    await reconciler.reconcile(10_000);
    const after = await queued(tenant.orgId);
    const liveBytes = Number(await ctx.app.redis.zscore(ctx.app.keys.orgLive(tenant.orgId), live));
    expect(liveBytes).toBeGreaterThan(0);
    expect(after).toEqual({ calls: 1, bytes: liveBytes });
    expect(await ctx.app.redis.zcard(ctx.app.keys.unreleased(lane))).toBe(0);
    // Freeing it again (the worker coming back, say) frees nothing more.
    expect(await budget.release(tenant.orgId, [ended])).toBe(0);
    expect(await queued(tenant.orgId)).toEqual(after);
  });

  it("ends `expired` a call still queued past its retention that no worker took, with its callback, and frees it", async () => {
    const tenant = await ctx.app.createTenant();
    const { reconciler } = stores();
    const res = await ctx.app.request().post("/runtime/calls").set(tenant.headers())
      .send({ method: "POST", url: `${rt.sink.url}/reconcile/lost`, callbackUrl: `${rt.sink.url}/reconcile/callback` });
    const callId = res.body.callId as string;
    await reconciler.reconcile(10_000);
    expect((await getCall({ app: ctx.app, tenant }, callId)).state).toBe("queued");
    // Past the retention and its margin (the retention itself, when it is shorter than a minute).
    await sleep(2 * RETENTION_MS + 200);
    await reconciler.reconcile(10_000);
    expect(await getCall({ app: ctx.app, tenant }, callId)).toMatchObject({ state: "expired", callback: { state: "pending" } });
    expect(await queued(tenant.orgId)).toEqual({ calls: 0, bytes: 0 });
    const [lane, own] = splitCallId(callId);
    expect(await ctx.app.redis.zscore(ctx.app.keys.callbackOutbox(lane), own)).not.toBeNull();
    expect(await ctx.app.redis.exists(ctx.app.keys.job(callId))).toBe(0);
  });

  it("forgets nothing of an org with live calls; another pass changes nothing", async () => {
    const tenant = await ctx.app.createTenant();
    const { reconciler } = stores();
    const res = await ctx.app.request().post("/runtime/calls").set(tenant.headers()).send({ method: "GET", url: `${rt.sink.url}/reconcile/steady` });
    expect(res.status).toBe(202);
    await reconciler.reconcile(10_000);
    await reconciler.reconcile(10_000);
    expect((await queued(tenant.orgId)).calls).toBe(1);
    expect(await ctx.app.redis.zscore(ctx.app.keys.liveOrgs(), tenant.orgId)).not.toBeNull();
  });
});
