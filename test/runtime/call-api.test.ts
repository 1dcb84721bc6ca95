import { beforeAll, describe, expect, it } from "vitest";
import { splitCallId, unthrottledLane } from "../../src/runtime/keys.js";
import { ERRORS } from "../../src/shared/errors/catalogue.js";
import { expectEnvelope } from "../support/envelope.js";
import type { Tenant } from "../support/test-app.js";
import { useTestApp } from "../support/test-app.js";

// API only: no worker runs, so whatever is accepted stays queued and can be counted in Redis.
const ctx = useTestApp();
const TARGET = "https://api.example.org/t/1";
const VALID = { method: "POST", url: TARGET, body: { hello: "world" } };

const submit = (body: unknown, headers = ctx.tenant.headers()) => ctx.app.request().post("/runtime/calls").set(headers).send(body as object);
const submitBatch = (calls: unknown[]) => ctx.app.request().post("/runtime/calls/batch").set(ctx.tenant.headers()).send({ calls });

/** Everything a call leaves in Redis: its BullMQ keys (its job is its record until it ends), finished records, the org's queued counter. */
async function footprint(tenant: Tenant = ctx.tenant) {
  const prefix = ctx.app.redisPrefix;
  return {
    records: await ctx.app.keysMatching(`${prefix}:rt:*:call:*`),
    bull: await ctx.app.keysMatching(`${prefix}:bull:*`),
    queued: Number((await ctx.app.redis.get(ctx.app.keys.orgQueued(tenant.orgId))) ?? 0),
  };
}

const invalid = (res: Parameters<typeof expectEnvelope>[0]) =>
  expectEnvelope(res, { status: 400, code: ERRORS.CALL_INVALID.code, family: "INPUT_OUTPUT_ERROR" });

describe("rejected submissions queue nothing", () => {
  let before: Awaited<ReturnType<typeof footprint>>;
  beforeAll(async () => {
    before = await footprint();
  });

  const cases: [string, unknown][] = [
    ["a relative URL", { ...VALID, url: "/t/1" }],
    ["an ftp: URL", { ...VALID, url: "ftp://api.example.org/t/1" }],
    ["an unknown method", { ...VALID, method: "FETCH" }],
    ["an unknown field", { ...VALID, priority: "high" }],
    ["a forbidden header (Host)", { ...VALID, headers: { Host: "example.org" } }],
    ["timeoutMs below 1000", { ...VALID, timeoutMs: 999 }],
    ["timeoutMs above 30000", { ...VALID, timeoutMs: 30_001 }],
    ["a non-integer timeoutMs", { ...VALID, timeoutMs: 1500.5 }],
    ["a relative callbackUrl", { ...VALID, callbackUrl: "/callback" }],
  ];
  it.each(cases)("400 ERR_CALL_INVALID for %s, naming the field", async (_name, body) => {
    const res = await submit(body);
    invalid(res);
    expect(res.body.errors).toEqual(expect.arrayContaining([{ path: expect.any(String), message: expect.any(String) }]));
  });

  it("400 for malformed JSON", async () => {
    const res = await ctx.app.request().post("/runtime/calls").set(ctx.tenant.headers()).set("content-type", "application/json").send('{"method":');
    invalid(res);
  });

  it("400 for a batch of 1001 calls, and for an empty batch", async () => {
    invalid(await submitBatch(Array.from({ length: 1001 }, () => VALID)));
    invalid(await submitBatch([]));
  });

  it("400 for a batch where only one call is invalid (all or nothing)", async () => {
    const res = await submitBatch([VALID, VALID, { ...VALID, url: "ftp://x/y" }]);
    invalid(res);
    expect(res.body.errors[0].path).toMatch(/^calls\.2\./);
  });

  it("413 ERR_PAYLOAD_TOO_LARGE for a single call whose body is over 1 MB", async () => {
    const res = await submit({ ...VALID, body: "x".repeat(1024 * 1024 + 1) });
    expectEnvelope(res, { status: 413, code: ERRORS.PAYLOAD_TOO_LARGE.code, family: "INPUT_OUTPUT_ERROR" });
  });

  it("413 for a batch carrying one call body over 1 MB", async () => {
    const res = await submitBatch([VALID, { ...VALID, body: "x".repeat(1024 * 1024 + 1) }]);
    expectEnvelope(res, { status: 413, code: ERRORS.PAYLOAD_TOO_LARGE.code, family: "INPUT_OUTPUT_ERROR" });
  });

  it("401 without credentials", async () => {
    const res = await ctx.app.request().post("/runtime/calls").send(VALID);
    expectEnvelope(res, { status: 401, code: ERRORS.UNAUTHORIZED.code, family: "AUTHENTICATION_ERROR" });
  });

  it("left no record, no BullMQ key and an unchanged queued counter behind", async () => {
    expect(await footprint()).toEqual(before);
    expect(before.records).toEqual([]);
  });
});

describe("accepted calls", () => {
  it("202 { callId, state: queued, throttled: false } without a deployed config; its job (its record) exists", async () => {
    const before = await footprint();
    const res = await submit(VALID);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ callId: expect.any(String), state: "queued", throttled: false });
    const after = await footprint();
    expect(after.records).toEqual(before.records);
    expect(after.bull).toContain(ctx.app.keys.job(res.body.callId));
    expect(after.queued).toBe(before.queued + 1);
    const lane = unthrottledLane(ctx.tenant.orgId);
    expect(await ctx.app.redis.lrange(ctx.app.keys.queueKey(lane, "wait"), 0, -1)).toContain(splitCallId(res.body.callId)[1]);

    const record = await ctx.app.request().get(`/runtime/calls/${res.body.callId}`).set(ctx.tenant.headers());
    expect(record.status).toBe(200);
    expect(record.body).toMatchObject({ callId: res.body.callId, state: "queued", throttled: false, method: "POST", url: TARGET, attempts: 0 });
    expect(record.body).not.toHaveProperty("orgId");
  });

  it("accepts a lower-case method, and x-sandbox-name is optional", async () => {
    const { "x-sandbox-name": _sandbox, ...headers } = ctx.tenant.headers();
    const res = await submit({ ...VALID, method: "put" }, headers);
    expect(res.status).toBe(202);
    const record = await ctx.app.request().get(`/runtime/calls/${res.body.callId}`).set(headers);
    expect(record.body.method).toBe("PUT");
  });
});

describe("GET /runtime/calls/{id}", () => {
  it("404 ERR_CALL_NOT_FOUND for an unknown callId", async () => {
    const res = await ctx.app.request().get("/runtime/calls/00000000-0000-4000-8000-000000000000").set(ctx.tenant.headers());
    expectEnvelope(res, { status: 404, code: ERRORS.CALL_NOT_FOUND.code, family: "INPUT_OUTPUT_ERROR" });
  });

  it("404 ERR_CALL_NOT_FOUND for another org's callId", async () => {
    const other = await ctx.app.createTenant();
    const theirs = await submit(VALID, other.headers());
    expect(theirs.status).toBe(202);
    expect((await ctx.app.request().get(`/runtime/calls/${theirs.body.callId}`).set(other.headers())).status).toBe(200);
    const res = await ctx.app.request().get(`/runtime/calls/${theirs.body.callId}`).set(ctx.tenant.headers());
    expectEnvelope(res, { status: 404, code: ERRORS.CALL_NOT_FOUND.code, family: "INPUT_OUTPUT_ERROR" });
  });
});
