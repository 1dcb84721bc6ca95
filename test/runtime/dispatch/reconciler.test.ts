import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { CallStore } from "../../../src/runtime/call-store.js";
import { Reconciler } from "../../../src/runtime/dispatch/reconciler.js";
import { newCallId, splitCallId, unthrottledLane } from "../../../src/runtime/keys.js";
import { OrgBudget } from "../../../src/runtime/org-budget.js";
import { RuntimeQueues } from "../../../src/runtime/queues.js";
import { RECORD_TTL_MS } from "../../../src/runtime/settings.js";
import { UnthrottledLanes } from "../../../src/runtime/unthrottled-lanes.js";
import { createLogger } from "../../../src/shared/logger.js";
import { getCall, useRuntime } from "../../support/runtime.js";
import { startSink } from "../../support/sink.js";

// CONTRACT §10: the org's queued count equals its non-terminal calls whatever crashed. No worker process runs here:
// each test leaves by hand what a crash leaves, then runs one pass. The grace periods shrink with the retention.
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

const queued = (orgId: string) => stores().budget.queued(orgId);

async function submit(tenant: { headers(): Record<string, string> }, path: string): Promise<string> {
  const res = await ctx.app.request().post("/runtime/calls").set(tenant.headers()).send({ method: "POST", url: `${rt.sink.url}${path}`, body: "x" });
  expect(res.status).toBe(202);
  return res.body.callId as string;
}

describe("the reconciler", () => {
  it("frees room an API reserved and never filled (it died before writing the calls), once its grace has passed", async () => {
    const tenant = await ctx.app.createTenant();
    const { budget, reconciler } = stores();
    const lane = unthrottledLane(tenant.orgId);
    const ghosts = [newCallId(lane), newCallId(lane)];
    expect(await budget.reserve(tenant.orgId, ghosts.map((callId) => ({ callId, bytes: 500 })), { maxCalls: 10, maxBytes: 10_000 })).toBe("reserved");
    expect(await queued(tenant.orgId)).toEqual({ calls: 2, bytes: 1000 });
    // Within its grace the acceptance may still be writing the calls.
    await reconciler.reconcile(10_000);
    expect(await queued(tenant.orgId)).toEqual({ calls: 2, bytes: 1000 });
    await sleep(RETENTION_MS + 100);
    await reconciler.reconcile(10_000);
    expect(await queued(tenant.orgId)).toEqual({ calls: 0, bytes: 0 });
    expect(await ctx.app.redis.hlen(ctx.app.keys.orgReserving(tenant.orgId))).toBe(0);
    // Freeing them again (their API come back, say) frees nothing.
    expect(await budget.releaseReserved(tenant.orgId, ghosts)).toBe(0);
  });

  it("keeps counted a call its API wrote and died before settling", async () => {
    const tenant = await ctx.app.createTenant();
    const { reconciler } = stores();
    const callId = await submit(tenant, "/reconcile/written");
    const before = await queued(tenant.orgId);
    await ctx.app.redis.hset(ctx.app.keys.orgReserving(tenant.orgId), callId, `0 ${before.bytes}`);
    await reconciler.reconcile(10_000);
    expect(await queued(tenant.orgId)).toEqual(before);
    expect(before.calls).toBe(1);
    expect(await ctx.app.redis.hlen(ctx.app.keys.orgReserving(tenant.orgId))).toBe(0);
  });

  it("frees a call that ended without being freed (its worker died in between), and keeps live calls counted", async () => {
    const tenant = await ctx.app.createTenant();
    const { reconciler } = stores();
    const ended = await submit(tenant, "/reconcile/ended");
    const live = await submit(tenant, "/reconcile/live-call");
    const both = await queued(tenant.orgId);
    expect(both.calls).toBe(2);
    // What a worker leaves when it dies right after ending a call: the job ended, the record written, the call
    // noted as unreleased in its lane, and still counted in its org.
    const [lane, own] = splitCallId(ended);
    const endedBytes = "POST".length + `${rt.sink.url}/reconcile/ended`.length + 1;
    await ctx.app.redis.eval(
      `redis.call('HSET', KEYS[1], 'call.state', 'succeeded'); redis.call('SET', KEYS[2], '["succeeded",1,0,0,0,"POST","x",null,null]')`,
      2, ctx.app.keys.job(ended), ctx.app.keys.call(ended),
    );
    await ctx.app.redis.hset(ctx.app.keys.unreleased(lane), own, `0 ${endedBytes}`);
    await reconciler.reconcile(10_000);
    expect(await queued(tenant.orgId)).toEqual({ calls: 1, bytes: both.bytes - endedBytes });
    expect(await ctx.app.redis.hlen(ctx.app.keys.unreleased(lane))).toBe(0);
    expect((await getCall({ app: ctx.app, tenant }, live)).state).toBe("queued");
  });

  it("a note of a call freed already (its process died after freeing it) frees nothing below zero", async () => {
    const tenant = await ctx.app.createTenant();
    const { reconciler } = stores();
    const callId = await submit(tenant, "/reconcile/twice");
    const [lane, own] = splitCallId(callId);
    const { bytes } = await queued(tenant.orgId);
    await stores().budget.release(tenant.orgId, 1, bytes);
    await ctx.app.redis.hset(ctx.app.keys.unreleased(lane), own, `0 ${bytes}`);
    await reconciler.reconcile(10_000);
    expect(await queued(tenant.orgId)).toEqual({ calls: 0, bytes: 0 });
  });
});
