import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runtimeStatus, type RuntimeStatus } from "../../src/authoring/runtime-status.schema.js";
import { startSink, type Sink } from "../support/sink.js";
import { egressAllowFor } from "../support/egress-allow.js";
import { useTestApp, type TestContext } from "../support/test-app.js";
import { waitFor } from "../support/timing.js";
import { startWorkerProcess } from "../support/worker-process.js";

// CONTRACT §3: GET and list carry `runtime` for the config's latest runtime version, built from Postgres (version,
// status) and Redis (queue, counters). Calls submitted while no worker runs stay queued, which makes `queued` exact.

const DAY_MS = 24 * 60 * 60 * 1000;

let sink: Sink;
beforeAll(async () => {
  sink = await startSink();
});
afterAll(() => sink.close());

async function createConfig(ctx: TestContext): Promise<string> {
  const res = await ctx.app.request().post("/authoring/throttlingConfigs").set(ctx.tenant.headers())
    .send({ urlPattern: `${sink.url}/limited/*`, methods: ["POST"], maxThroughput: 200 });
  expect(res.status).toBe(200);
  return res.body.uid as string;
}

async function operate(ctx: TestContext, uid: string, operation: "deploy" | "undeploy"): Promise<void> {
  const res = await ctx.app.request().post(`/authoring/throttlingConfigs/${uid}/${operation}`).set(ctx.tenant.headers());
  expect(res.status).toBe(204);
}

async function submit(ctx: TestContext, count: number, path = "/limited/"): Promise<void> {
  const calls = Array.from({ length: count }, (_, i) => ({ method: "POST", url: `${sink.url}${path}${i}` }));
  const res = await ctx.app.request().post("/runtime/calls/batch").set(ctx.tenant.headers()).send({ calls });
  expect(res.status).toBe(202);
}

/** The `runtime` block of GET, checked against its schema; undefined when absent. */
async function runtimeOf(ctx: TestContext, uid: string): Promise<RuntimeStatus | undefined> {
  const res = await ctx.app.request().get(`/authoring/throttlingConfigs/${uid}`).set(ctx.tenant.headers());
  expect(res.status).toBe(200);
  const block = res.body.result.runtime as unknown;
  return block === undefined ? undefined : runtimeStatus.parse(block);
}

describe("runtime block", () => {
  const ctx = useTestApp(() => egressAllowFor(sink.url));
  let uid: string;

  it("is absent before the first deploy", async () => {
    uid = await createConfig(ctx);
    expect(await runtimeOf(ctx, uid)).toBeUndefined();
  });

  it("after deploy: version 1, active, nothing queued or sent yet", async () => {
    await operate(ctx, uid, "deploy");
    expect(await runtimeOf(ctx, uid)).toEqual({
      version: 1,
      status: "active",
      queued: 0,
      oldestQueuedAgeMs: 0,
      dispatchedLastMinute: 0,
      expiredTotal: 0,
    });
  });

  it("counts the calls waiting in this version's queue (not the unthrottled ones) and the oldest one's age", async () => {
    const submittedAt = Date.now();
    await submit(ctx, 7);
    await submit(ctx, 3, "/other/");
    await new Promise((resolve) => setTimeout(resolve, 150));
    const block = await runtimeOf(ctx, uid);
    expect(block).toMatchObject({ version: 1, status: "active", queued: 7, dispatchedLastMinute: 0 });
    expect(block!.oldestQueuedAgeMs).toBeGreaterThanOrEqual(150);
    expect(block!.oldestQueuedAgeMs).toBeLessThanOrEqual(Date.now() - submittedAt);
  });

  it("list carries the same block", async () => {
    const res = await ctx.app.request().post("/authoring/list/throttlingConfigs").set(ctx.tenant.headers());
    expect(res.status).toBe(200);
    const [listed] = res.body.results as { uid: string; runtime: RuntimeStatus }[];
    expect(listed!.uid).toBe(uid);
    expect(runtimeStatus.parse(listed!.runtime)).toMatchObject({ version: 1, status: "active", queued: 7, expiredTotal: 0 });
  });

  it("after undeploy: draining until about 24 h from now, still holding its queue", async () => {
    const before = Date.now();
    await operate(ctx, uid, "undeploy");
    const block = await runtimeOf(ctx, uid);
    expect(block).toMatchObject({ version: 1, status: "draining", queued: 7 });
    const drainUntil = Date.parse(block!.drainUntil!);
    expect(drainUntil).toBeGreaterThanOrEqual(before + DAY_MS);
    expect(drainUntil).toBeLessThanOrEqual(Date.now() + DAY_MS);
  });

  it("once a worker drains the queue: dispatchedLastMinute counts the sent calls, queued is 0", async () => {
    const worker = await startWorkerProcess(ctx.app);
    try {
      await sink.waitForArrivals(7, { pathPrefix: "/limited/", timeoutMs: 10_000 });
      // A send is counted when it leaves, its job leaves the queue once its answer is in.
      await waitFor(async () => (await runtimeOf(ctx, uid))?.dispatchedLastMinute === 7 && (await runtimeOf(ctx, uid))?.queued === 0, {
        timeoutMs: 5000,
        message: "dispatchedLastMinute reaches 7 and the queue empties",
      });
      expect(await runtimeOf(ctx, uid)).toMatchObject({ status: "draining", queued: 0, oldestQueuedAgeMs: 0, expiredTotal: 0 });
    } finally {
      await worker.stop();
    }
  });

  it("a redeploy shows the new, highest version", async () => {
    await operate(ctx, uid, "deploy");
    const block = await runtimeOf(ctx, uid);
    expect(block).toEqual({ version: 2, status: "active", queued: 0, oldestQueuedAgeMs: 0, dispatchedLastMinute: 0, expiredTotal: 0 });
  });
});

describe("expiredTotal", () => {
  const ctx = useTestApp(() => ({ SLUICE_TEST_RETENTION_MS: "300", ...egressAllowFor(sink.url) }));

  it("counts calls that outlived the queue retention before a worker could send them", async () => {
    const uid = await createConfig(ctx);
    await operate(ctx, uid, "deploy");
    await submit(ctx, 4);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const worker = await startWorkerProcess(ctx.app);
    try {
      // An expired call is counted just before its job leaves the queue.
      await waitFor(async () => (await runtimeOf(ctx, uid))?.expiredTotal === 4 && (await runtimeOf(ctx, uid))?.queued === 0, {
        timeoutMs: 10_000,
        message: "expiredTotal reaches 4 and the queue empties",
      });
      expect(await runtimeOf(ctx, uid)).toMatchObject({ queued: 0, dispatchedLastMinute: 0 });
    } finally {
      await worker.stop();
    }
  });
});

describe("with Redis unreachable", () => {
  const ctx = useTestApp({ REDIS_URL: "redis://127.0.0.1:1" });

  it("GET still answers 200, leaving out the block it cannot fill rather than reporting zeros", async () => {
    const uid = await createConfig(ctx);
    await operate(ctx, uid, "deploy");
    const res = await ctx.app.request().get(`/authoring/throttlingConfigs/${uid}`).set(ctx.tenant.headers());
    expect(res.status).toBe(200);
    expect(res.body.result).toMatchObject({ state: "deployed", version: "1.0" });
    expect(res.body.result).not.toHaveProperty("runtime");

    const listed = await ctx.app.request().post("/authoring/list/throttlingConfigs").set(ctx.tenant.headers());
    expect(listed.status).toBe(200);
    expect(listed.body.results[0]).not.toHaveProperty("runtime");
  });
});
