import { setTimeout as sleep } from "node:timers/promises";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { CallbackSecrets } from "../../../src/runtime/callbacks/callback-secrets.js";
import type { CallRecord } from "../../../src/runtime/accept/call.schema.js";
import { deployConfig, getCall, undeploy, useRuntime, waitForCallStates } from "../../support/runtime.js";
import { loopbackHostName } from "../../support/loopback-name.js";
import { startSink, type Arrival } from "../../support/sink.js";
import { waitFor } from "../../support/timing.js";

// CONTRACT §10: callbacks for every terminal state, at least once, retried on a backoff, signed as Standard Webhooks.
// The first retry waits 100 ms here instead of 5 s (then 200, 400 ms...); the retention is 3 s and a drain 2 s, so
// that expired and dropped calls happen within a test.
const RETRY_MS = 100;
const rt = useRuntime({
  startSink,
  env: { SLUICE_TEST_CALLBACK_RETRY_MS: String(RETRY_MS), SLUICE_TEST_RETENTION_MS: "3000", SLUICE_TEST_DRAIN_MS: "2000" },
});
const { ctx } = rt;
const secrets = () => new CallbackSecrets(ctx.app.db);

async function submit(call: object, tenant = ctx.tenant): Promise<string> {
  const res = await ctx.app.request().post("/runtime/calls").set(tenant.headers()).send(call);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.callId as string;
}

async function callbacksAt(path: string, count: number, timeoutMs = 10_000): Promise<Arrival[]> {
  return rt.sink.waitForArrivals(count, { pathPrefix: path, timeoutMs });
}

/** Verifies an arrival's Standard Webhooks signature with `secret`; returns the posted record. */
function verified(arrival: Arrival, secret: string): CallRecord {
  const headers = Object.fromEntries(Object.entries(arrival.headers).map(([name, value]) => [name, String(value)]));
  return new Webhook(secret).verify(arrival.body, headers) as CallRecord;
}

/** Polls the record until its callback reaches `state`. */
async function callbackState(callId: string, state: string, as = ctx): Promise<CallRecord> {
  let record: CallRecord | undefined;
  await waitFor(async () => (record = await getCall(as, callId)).callback?.state === state, { timeoutMs: 10_000, message: `callback ${state}` });
  return record!;
}

describe("a callback", () => {
  it("POSTs the final record once, signed with the org's secret; the record shows it delivered", async () => {
    const callId = await submit({ method: "POST", url: `${rt.sink.url}/call/ok`, callbackUrl: `${rt.sink.url}/callback/ok` });
    const [arrival] = await callbacksAt("/callback/ok", 1);
    expect(arrival!.method).toBe("POST");
    expect(arrival!.headers["content-type"]).toMatch(/^application\/json/);
    expect(arrival!.headers["webhook-id"]).toBe(callId);
    expect(Math.abs(Number(arrival!.headers["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(5);
    expect(arrival!.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    const posted = verified(arrival!, (await secrets().show(ctx.tenant.orgId)).secret);
    expect(posted).toMatchObject({ callId, state: "succeeded", attempts: 1, response: { status: 200 }, callback: { state: "pending", attempts: 0 } });
    expect(posted).not.toHaveProperty("orgId");

    const record = await callbackState(callId, "delivered");
    expect(record.callback).toEqual({ state: "delivered", attempts: 1, lastStatus: 200 });
    expect({ ...posted, callback: record.callback }).toEqual(record);
    await sleep(500);
    expect(rt.sink.arrivalsFor("/callback/ok")).toHaveLength(1);
  });

  it("a signature made with another secret does not verify", async () => {
    await submit({ method: "POST", url: `${rt.sink.url}/call/forged`, callbackUrl: `${rt.sink.url}/callback/forged` });
    const [arrival] = await callbacksAt("/callback/forged", 1);
    const other = `whsec_${Buffer.alloc(24, 7).toString("base64")}`;
    expect(() => verified(arrival!, other)).toThrow(/signature/i);
  });

  it("a receiver down for the first 3 attempts gets it on the 4th, signature valid, after the backoff", async () => {
    rt.sink.respondSequence("/callback/flaky", [{ status: 503 }, { status: 500 }, { status: 502 }]);
    const callId = await submit({ method: "POST", url: `${rt.sink.url}/call/flaky`, callbackUrl: `${rt.sink.url}/callback/flaky` });
    const arrivals = await callbacksAt("/callback/flaky", 4);
    const secret = (await secrets().show(ctx.tenant.orgId)).secret;
    for (const arrival of arrivals) {
      expect(arrival.headers["webhook-id"]).toBe(callId);
      expect(verified(arrival, secret)).toMatchObject({ callId, state: "succeeded" });
    }
    // From 100 ms, doubling: 100, 200 and 400 ms between the attempts (a poll may add up to a second to each).
    const gaps = arrivals.slice(1).map((arrival, i) => arrival.at - arrivals[i]!.at);
    gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(RETRY_MS * 2 ** i - 5));
    const record = await callbackState(callId, "delivered");
    expect(record.callback).toEqual({ state: "delivered", attempts: 4, lastStatus: 200 });
    await sleep(800);
    expect(rt.sink.arrivalsFor("/callback/flaky")).toHaveLength(4);
  });

  it("a failed call's record shows each failed attempt's status while it is retried", async () => {
    rt.sink.respondSequence("/call/missing", [{ status: 404 }]);
    rt.sink.respondSequence("/callback/refusing", Array.from({ length: 50 }, () => ({ status: 500 })));
    const callId = await submit({ method: "POST", url: `${rt.sink.url}/call/missing`, callbackUrl: `${rt.sink.url}/callback/refusing` });
    await callbacksAt("/callback/refusing", 3);
    // The third attempt is counted once its answer is back, just after the receiver saw it.
    await expect.poll(async () => (await getCall(ctx, callId)).callback?.attempts, { timeout: 5000 }).toBeGreaterThanOrEqual(3);
    const record = await getCall(ctx, callId);
    expect(record).toMatchObject({ state: "failed", response: { status: 404 } });
    expect(record.callback).toMatchObject({ state: "pending", lastStatus: 500 });
  });

  it("an expired call is called back with its expired record", async () => {
    // A 429 with Retry-After pauses the org's calls to this origin past the 3 s retention.
    rt.sink.respondSequence("/expire/pause", [{ status: 429, headers: { "retry-after": "30" } }]);
    await submit({ method: "POST", url: `${rt.sink.url}/expire/pause` });
    await rt.sink.waitForArrivals(1, { pathPrefix: "/expire/pause", timeoutMs: 5000 });
    const callId = await submit({ method: "POST", url: `${rt.sink.url}/expire/late`, callbackUrl: `${rt.sink.url}/callback/expired` });
    const [arrival] = await callbacksAt("/callback/expired", 1, 20_000);
    const posted = verified(arrival!, (await secrets().show(ctx.tenant.orgId)).secret);
    expect(posted).toMatchObject({ callId, state: "expired" });
    expect(rt.sink.arrivalsFor("/expire/late")).toHaveLength(0);
    await callbackState(callId, "delivered");
    // An expired call can be sent again, as a new call naming it.
    const replayed = await ctx.app.request().post(`/runtime/calls/${callId}/replay`).set(ctx.tenant.headers());
    expect(replayed.status, JSON.stringify(replayed.body)).toBe(202);
    expect(replayed.body).toMatchObject({ state: "queued", replayOf: callId });
  });

  it("a callback to an address the egress policy denies (a name resolving to loopback) fails at once, untried again", async () => {
    // Another org: the expiry test paused this one's calls to the sink.
    const other = { app: ctx.app, tenant: await ctx.app.createTenant() };
    const host = await loopbackHostName();
    const callId = await submit({ method: "POST", url: `${rt.sink.url}/call/denied-callback`, callbackUrl: `http://${host}:1/callback` }, other.tenant);
    const record = await callbackState(callId, "failed", other);
    expect(record.callback).toEqual({ state: "failed", attempts: 1 });
    expect(record.state).toBe("succeeded");
    await sleep(4 * RETRY_MS + 300);
    expect((await getCall(other, callId)).callback).toEqual({ state: "failed", attempts: 1 });
  });

  it("a call dropped at the end of a drain is called back with its dropped record", async () => {
    const tenant = await ctx.app.createTenant();
    const other = { app: ctx.app, tenant };
    const { uid } = await deployConfig(other, { urlPattern: `${rt.sink.url}/drop/*`, methods: ["POST"], maxThroughput: 200 });
    // The lane pauses for 30 s, longer than the drain.
    rt.sink.respondSequence("/drop/pause", [{ status: 429, headers: { "retry-after": "30" } }]);
    await submit({ method: "POST", url: `${rt.sink.url}/drop/pause` }, tenant);
    await rt.sink.waitForArrivals(1, { pathPrefix: "/drop/pause", timeoutMs: 5000 });
    await sleep(100);
    const callId = await submit({ method: "POST", url: `${rt.sink.url}/drop/late`, callbackUrl: `${rt.sink.url}/callback/dropped` }, tenant);
    expect(await getCall(other, callId)).toMatchObject({ state: "queued", throttled: true });
    await undeploy(other, uid);
    const [arrival] = await callbacksAt("/callback/dropped", 1, 20_000);
    const posted = verified(arrival!, (await secrets().show(tenant.orgId)).secret);
    expect(posted).toMatchObject({ callId, state: "dropped" });
    expect(rt.sink.arrivalsFor("/drop/late")).toHaveLength(0);
  });

  it("during 24 h after a rotation both secrets sign: two v1 entries, each verifies", async () => {
    const tenant = await ctx.app.createTenant();
    const before = (await secrets().show(tenant.orgId)).secret;
    const rotated = await secrets().rotate(tenant.orgId);
    expect(rotated).toMatchObject({ previous: before });
    expect(rotated.secret).not.toBe(before);
    expect(rotated.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    // Workers read the secrets through a 5 s cache; this org's were never read before.
    const res = await ctx.app.request().post("/runtime/calls").set(tenant.headers())
      .send({ method: "POST", url: `${rt.sink.url}/call/rotated`, callbackUrl: `${rt.sink.url}/callback/rotated` });
    expect(res.status).toBe(202);
    const [arrival] = await callbacksAt("/callback/rotated", 1);
    expect(String(arrival!.headers["webhook-signature"]).split(" ")).toHaveLength(2);
    expect(verified(arrival!, rotated.secret)).toMatchObject({ state: "succeeded" });
    expect(verified(arrival!, before)).toMatchObject({ state: "succeeded" });
  });

  it("a queued call with a callback shows it pending with no attempt", async () => {
    // Another org: the expiry test paused this one's calls to the sink.
    const tenant = await ctx.app.createTenant();
    rt.sink.respondSequence("/pending/pause", [{ status: 429, headers: { "retry-after": "2" } }]);
    await submit({ method: "POST", url: `${rt.sink.url}/pending/pause` }, tenant);
    await rt.sink.waitForArrivals(1, { pathPrefix: "/pending/pause", timeoutMs: 5000 });
    const callId = await submit({ method: "POST", url: `${rt.sink.url}/pending/queued`, callbackUrl: `${rt.sink.url}/callback/pending` }, tenant);
    const other = { app: ctx.app, tenant };
    expect(await getCall(other, callId)).toMatchObject({ state: "queued", callback: { state: "pending", attempts: 0 } });
    await waitForCallStates(other, [callId], ["succeeded"], 10_000);
  });
});
