import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ERRORS } from "../../src/shared/errors/catalogue.js";
import { expectEnvelope } from "../support/envelope.js";
import { useTestApp, type Tenant } from "../support/test-app.js";

// No worker: nothing drains, so every accepted call keeps its slot.
const MAX = 50;
const ctx = useTestApp({ RUNTIME_MAX_QUEUED_PER_ORG: String(MAX) });
const call = (i: number) => ({ method: "POST", url: `http://127.0.0.1:9/cap/${i}` });
const calls = (n: number) => Array.from({ length: n }, (_, i) => call(i));

const submitBatch = (n: number, tenant: Tenant = ctx.tenant, headers: Record<string, string> = {}) =>
  ctx.app.request().post("/runtime/calls/batch").set(tenant.headers()).set(headers).send({ calls: calls(n) });
const submit = (tenant: Tenant = ctx.tenant, headers: Record<string, string> = {}) =>
  ctx.app.request().post("/runtime/calls").set(tenant.headers()).set(headers).send(call(0));

function expectQueueFull(res: Parameters<typeof expectEnvelope>[0]) {
  expectEnvelope(res, { status: 429, code: ERRORS.QUEUE_FULL.code, family: "RATE_LIMIT_ERROR", message: ERRORS.QUEUE_FULL.message });
  expect(Number(res.headers["retry-after"])).toBeGreaterThan(0);
}

/** Call records, waiting jobs and the queued counter of `tenant` (the only org with calls, bar the last test). */
async function queuedState(tenant: Tenant = ctx.tenant) {
  const prefix = ctx.app.redisPrefix;
  return {
    records: (await ctx.app.redis.keys(`${prefix}:rt:call:*`)).length,
    jobs: await ctx.app.redis.llen(`${prefix}:bull:unthrottled:wait`),
    counter: Number(await ctx.app.redis.get(`${prefix}:rt:org:${tenant.orgId}:queued`)),
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
    expect(Number(await ctx.app.redis.get(`${ctx.app.redisPrefix}:rt:org:${other.orgId}:queued`))).toBe(MAX);
    expect((await queuedState()).counter).toBe(MAX);
  });
});
