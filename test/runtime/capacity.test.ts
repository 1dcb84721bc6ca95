import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unthrottledLane } from "../../src/runtime/keys.js";
import { ERRORS } from "../../src/shared/errors/catalogue.js";
import { expectEnvelope, parseEnvelope } from "../support/envelope.js";
import { waitForCallStates } from "../support/runtime.js";
import { startSink, type Sink } from "../support/sink.js";
import { egressAllowFor } from "../support/egress-allow.js";
import { useTestApp, type Tenant } from "../support/test-app.js";
import { waitFor } from "../support/timing.js";
import { startWorkerProcess, type WorkerProcess } from "../support/worker-process.js";

// No worker: nothing drains, so every accepted call keeps its slot.
const MAX = 50;
const ctx = useTestApp({ RUNTIME_MAX_QUEUED_PER_ORG: String(MAX) });
const call = (i: number) => ({ method: "POST", url: `https://api.example.org/cap/${i}` });
const calls = (n: number) => Array.from({ length: n }, (_, i) => call(i));

const submitBatch = (n: number, tenant: Tenant = ctx.tenant, headers: Record<string, string> = {}) =>
  ctx.app.request().post("/runtime/calls/batch").set(tenant.headers()).set(headers).send({ calls: calls(n) });
const submit = (tenant: Tenant = ctx.tenant, headers: Record<string, string> = {}) =>
  ctx.app.request().post("/runtime/calls").set(tenant.headers()).set(headers).send(call(0));

function expectQueueFull(res: Parameters<typeof expectEnvelope>[0]) {
  expectEnvelope(res, { status: 429, code: ERRORS.QUEUE_FULL.code, family: "RATE_LIMIT_ERROR", message: ERRORS.QUEUE_FULL.message });
  expect(Number(res.headers["retry-after"])).toBeGreaterThan(0);
}

/**
 * Calls' jobs (each is its call's record while queued), waiting jobs and the queued counter of `tenant` (the only org
 * with calls, bar the last test).
 */
async function queuedState(tenant: Tenant = ctx.tenant) {
  const { keys } = ctx.app;
  const lane = unthrottledLane(tenant.orgId);
  const bullKeys = await ctx.app.keysMatching(keys.queueKey(lane, "*"));
  return {
    records: bullKeys.filter((key) => /:[\w-]{16}$/.test(key)).length,
    jobs: await ctx.app.redis.llen(keys.queueKey(lane, "wait")),
    counter: Number(await ctx.app.redis.get(keys.orgQueued(tenant.orgId))),
  };
}

describe(`RUNTIME_MAX_QUEUED_PER_ORG=${MAX}`, () => {
  it("accepts a batch of 40", async () => {
    const res = await submitBatch(40);
    expect(res.status).toBe(202);
    expect(res.body.calls).toHaveLength(40);
    expect(await queuedState()).toEqual({ records: 40, jobs: 40, counter: 40 });
  });

  it("refuses a batch of 20 as a whole with 429 ERR_QUEUE_FULL and Retry-After; none of it is queued", async () => {
    expectQueueFull(await submitBatch(20));
    expect(await queuedState()).toEqual({ records: 40, jobs: 40, counter: 40 });
  });

  it("still takes single calls up to the bound, then refuses the next", async () => {
    for (let i = 41; i <= MAX; i++) expect((await submit()).status).toBe(202);
    expectQueueFull(await submit());
    expect(await queuedState()).toEqual({ records: MAX, jobs: MAX, counter: MAX });
  });

  it("a refused submission with an Idempotency-Key hands out no callId, even to concurrent retries", async () => {
    const key = randomUUID();
    const responses = await Promise.all(Array.from({ length: 10 }, () => submit(ctx.tenant, { "Idempotency-Key": key })));
    for (const res of responses) expectQueueFull(res);
    expect(await queuedState()).toEqual({ records: MAX, jobs: MAX, counter: MAX });
  });

  it("another org is unaffected", async () => {
    const other = await ctx.app.createTenant();
    const res = await submitBatch(MAX, other);
    expect(res.status).toBe(202);
    expect(Number(await ctx.app.redis.get(ctx.app.keys.orgQueued(other.orgId)))).toBe(MAX);
    expect((await queuedState()).counter).toBe(MAX);
  });
});

describe("RUNTIME_MAX_QUEUED_BYTES_PER_ORG (CONTRACT §11): method, URL, headers and body of every queued call", () => {
  const BUDGET = 4096;
  let sink: Sink;
  beforeAll(async () => {
    sink = await startSink();
  });
  const budgeted = useTestApp(() => ({ RUNTIME_MAX_QUEUED_BYTES_PER_ORG: String(BUDGET), ...egressAllowFor(sink.url) }));
  let worker: WorkerProcess | undefined;
  afterAll(async () => {
    await worker?.stop();
    await sink?.close();
  });

  const big = (i: number) => ({ method: "POST", url: `${sink.url}/bytes/${i}`, headers: { "x-tag": "t" }, body: "b".repeat(1000) });
  const bytesOf = (call: ReturnType<typeof big>) => call.method.length + call.url.length + "x-tag".length + 1 + call.body.length;
  const send = (call: object) => budgeted.app.request().post("/runtime/calls").set(budgeted.tenant.headers()).send(call);
  const counters = async () => {
    const { keys } = budgeted.app;
    const [calls, bytes] = await budgeted.app.redis.mget(keys.orgQueued(budgeted.tenant.orgId), keys.orgQueuedBytes(budgeted.tenant.orgId));
    return { calls: Number(calls ?? 0), bytes: Number(bytes ?? 0) };
  };
  const accepted: string[] = [];

  it("takes calls until their bytes would pass the budget, then answers 429 ERR_QUEUE_FULL naming it and queues nothing", async () => {
    for (const i of [0, 1, 2]) {
      const res = await send(big(i));
      expect(res.status).toBe(202);
      accepted.push(res.body.callId as string);
    }
    const full = await send(big(3));
    expectQueueFull(full);
    expect(parseEnvelope(full).inner.context).toContain(`RUNTIME_MAX_QUEUED_BYTES_PER_ORG (${BUDGET} bytes)`);
    expect(await counters()).toEqual({ calls: 3, bytes: 3 * bytesOf(big(0)) });
    // A call small enough for what is left still fits.
    const small = await send({ method: "GET", url: `${sink.url}/bytes/small` });
    expect(small.status).toBe(202);
    accepted.push(small.body.callId as string);
  });

  it("a batch is reserved as a whole: all of it fits, or none of it is queued", async () => {
    const before = await counters();
    const res = await budgeted.app.request().post("/runtime/calls/batch").set(budgeted.tenant.headers()).send({ calls: [big(4), big(5)] });
    expectQueueFull(res);
    expect(await counters()).toEqual(before);
  });

  it("the budget comes back as the calls end", async () => {
    worker = await startWorkerProcess(budgeted.app);
    await waitForCallStates(budgeted, accepted, ["succeeded"], 10_000);
    await waitFor(async () => (await counters()).bytes === 0, { timeoutMs: 5000, message: "queued bytes back to 0" });
    expect(await counters()).toEqual({ calls: 0, bytes: 0 });
    expect((await send(big(3))).status).toBe(202);
  });
});
