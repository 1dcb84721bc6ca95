import { setTimeout as sleep } from "node:timers/promises";
import { Worker } from "bullmq";
import { describe, expect, it } from "vitest";
import { CallStore } from "../../../src/runtime/call-store.js";
import { Sweeper } from "../../../src/runtime/dispatch/sweeper.js";
import { splitCallId, unthrottledLane } from "../../../src/runtime/keys.js";
import { OrgBudget } from "../../../src/runtime/org-budget.js";
import { RuntimeQueues } from "../../../src/runtime/queues.js";
import { RECORD_TTL_MS } from "../../../src/runtime/settings.js";
import { UnthrottledLanes } from "../../../src/runtime/unthrottled-lanes.js";
import { createLogger } from "../../../src/shared/logger.js";
import { getCall, useRuntime } from "../../support/runtime.js";
import { startSink } from "../../support/sink.js";
import { testRedisEnv } from "../../support/test-app.js";
import { loadEnv } from "../../../src/config/env.js";
import { createRedis, redisTarget } from "../../../src/shared/redis.js";

// CONTRACT §10: no call stays `queued` or `sending` past its retention (plus a margin), even one whose worker took it
// and died while no live worker of its lane takes it back. No worker process runs here: the test takes the call as
// a worker would and abandons it, then runs the sweeper itself.
const RETENTION_MS = 1500;
const rt = useRuntime({ startSink, workers: 0, env: { SLUICE_TEST_RETENTION_MS: String(RETENTION_MS) } });
const { ctx } = rt;

describe("the sweeper", () => {
  it("ends `expired` a call left active past its retention, with its callback, and frees its room", async () => {
    const { db, redis, keys } = ctx.app;
    const budget = new OrgBudget(redis, keys, RETENTION_MS + RECORD_TTL_MS);
    const records = new CallStore(redis, keys, budget);
    const queues = new RuntimeQueues(redis, keys);
    const unthrottled = new UnthrottledLanes(redis, keys, RETENTION_MS);
    const sweeper = new Sweeper({ db, redis, keys, queues, records, budget, unthrottled, logger: createLogger("silent"), retentionMs: RETENTION_MS, lockMs: 60_000 });
    const res = await ctx.app.request().post("/runtime/calls").set(ctx.tenant.headers())
      .send({ method: "POST", url: `${rt.sink.url}/sweep/lost`, callbackUrl: `${rt.sink.url}/sweep/callback` });
    const callId = res.body.callId as string;
    const lane = unthrottledLane(ctx.tenant.orgId);
    // A worker takes the call (its job becomes active, locked for a minute) and dies.
    const connection = createRedis(redisTarget(loadEnv(testRedisEnv())), { maxRetriesPerRequest: null });
    const taker = new Worker(keys.queueName(lane), null, { connection, prefix: keys.bullPrefix, lockDuration: 60_000, autorun: false });
    const job = await taker.getNextJob("dead-worker");
    expect(job?.id).toBe(splitCallId(callId)[1]);
    await taker.close(true);
    connection.disconnect();

    await sweeper.sweep([lane], 5000);
    expect((await getCall(ctx, callId)).state).toBe("queued");
    await sleep(2 * RETENTION_MS + 200);
    await sweeper.sweep([lane], 5000);
    const record = await getCall(ctx, callId);
    expect(record).toMatchObject({ state: "expired", callback: { state: "pending", attempts: 0 } });
    expect(await budget.queued(ctx.tenant.orgId)).toEqual({ calls: 0, bytes: 0 });
    const [laneId, own] = splitCallId(callId);
    expect(await redis.zscore(keys.callbackOutbox(laneId), own)).not.toBeNull();
    await queues.close();
  });
});
