import { Cluster } from "ioredis";
import { describe, expect, it } from "vitest";
import { throttledLane } from "../../src/runtime/keys.js";
import { callsTo, deploy, deployConfig, submitBatch, undeploy, useRuntime } from "../support/runtime.js";
import { masterOf, type TestContext } from "../support/test-app.js";
import { startTimingSink } from "../support/timing-sink.js";
import { spanMs, stallAware } from "../support/timing.js";

const rt = useRuntime({ startSink: startTimingSink, scope: "test" });
const { ctx } = rt;
const N = 200;

/** The master serving a deployed config's queue (on one Redis, that Redis). */
async function queueMaster(org: TestContext, uid: string): Promise<string> {
  const version = await org.app.db.runtimeVersion.findFirstOrThrow({ where: { configUid: uid, status: "active" } });
  return masterOf(org.app.redis, org.app.keys.queueKey(throttledLane(version.id), "wait"));
}

describe("two orgs' configs at once", () => {
  it(`each holds N=${N} per sliding second while both send, their queues on different masters of a cluster`, async () => {
    const other: TestContext = { app: ctx.app, tenant: await ctx.app.createTenant() };
    const a = await deployConfig(ctx, { urlPattern: `${rt.sink.url}/a/*`, methods: ["POST"], maxThroughput: N });
    const b = await deployConfig(other, { urlPattern: `${rt.sink.url}/b/*`, methods: ["POST"], maxThroughput: N });
    // A redeploy is a new runtime version, a new queue, and a new hash slot: redeploy until the two queues sit on
    // different masters (on one Redis there is only one).
    const clustered = ctx.app.redis instanceof Cluster;
    for (let attempt = 0; clustered && (await queueMaster(ctx, a.uid)) === (await queueMaster(other, b.uid)); attempt++) {
      expect(attempt, "redeploys to reach another master").toBeLessThan(20);
      await undeploy(other, b.uid);
      await deploy(other, b.uid);
    }

    await Promise.all([submitBatch(ctx, callsTo(`${rt.sink.url}/a/`, 3 * N)), submitBatch(other, callsTo(`${rt.sink.url}/b/`, 3 * N))]);
    await rt.sink.waitForArrivals(6 * N, { timeoutMs: 15_000 });
    const measured = stallAware(rt.sink.stalls);
    for (const path of ["/a/", "/b/"]) {
      const times = rt.sink.arrivalTimes(path);
      expect(times).toHaveLength(3 * N);
      expect(measured.maxInWindow(times), path).toBeLessThanOrEqual(N);
      expect(spanMs(times), path).toBeGreaterThanOrEqual(2900 - measured.longestMs);
      expect(spanMs(times), path).toBeLessThanOrEqual(3500 + measured.stalledMs(times[0]!, times.at(-1)!));
    }
    // At the same time: each sends through the other's busy period.
    const [aTimes, bTimes] = [rt.sink.arrivalTimes("/a/"), rt.sink.arrivalTimes("/b/")];
    expect(Math.abs(aTimes[0]! - bTimes[0]!)).toBeLessThan(500);
  });
});
