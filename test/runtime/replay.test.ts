import { describe, expect, it } from "vitest";
import type { CallRecord } from "../../src/runtime/accept/call.schema.js";
import { ERRORS } from "../../src/shared/errors/catalogue.js";
import { expectEnvelope } from "../support/envelope.js";
import { getCall, submitBatch, useRuntime, waitForCallStates } from "../support/runtime.js";
import { startSink } from "../support/sink.js";

// CONTRACT §10: the org's calls listed newest first, filtered by state and paged; failed, expired and dropped calls
// sent again as new calls.
const rt = useRuntime({ startSink });
const { ctx } = rt;

async function submit(call: object, tenant = ctx.tenant): Promise<string> {
  const res = await ctx.app.request().post("/runtime/calls").set(tenant.headers()).send(call);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.callId as string;
}

const list = (query: string, tenant = ctx.tenant) => ctx.app.request().get(`/runtime/calls${query}`).set(tenant.headers());
const replay = (callId: string, tenant = ctx.tenant) => ctx.app.request().post(`/runtime/calls/${callId}/replay`).set(tenant.headers());

describe("GET /runtime/calls", () => {
  it("lists the org's calls newest first, paged by cursor without gaps or repeats", async () => {
    const tenant = await ctx.app.createTenant();
    const other = { app: ctx.app, tenant };
    const singles: string[] = [];
    for (let i = 0; i < 4; i++) singles.push(await submit({ method: "POST", url: `${rt.sink.url}/list/${i}` }, tenant));
    const batch = (await submitBatch(other, [0, 1, 2].map((i) => ({ method: "POST", url: `${rt.sink.url}/list/b${i}` })))).map((c) => c.callId);
    const newestFirst = [...batch.reverse(), ...singles.reverse()];
    await waitForCallStates(other, newestFirst, ["succeeded"], 10_000);

    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 5; page++) {
      const res = await list(`?limit=3${cursor ? `&cursor=${cursor}` : ""}`, tenant);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      seen.push(...(res.body.calls as CallRecord[]).map((record) => record.callId));
      expect((res.body.calls as CallRecord[]).every((record) => record.state === "succeeded" && record.url.startsWith(`${rt.sink.url}/list/`))).toBe(true);
      cursor = res.body.nextCursor as string | undefined;
      if (!cursor) break;
    }
    expect(seen).toEqual(newestFirst);
    const all = await list("?limit=1000", tenant);
    expect(all.body.calls).toHaveLength(7);
    expect(all.body).not.toHaveProperty("nextCursor");
    expect(all.body.calls[0]).toEqual(await getCall(other, newestFirst[0]!));
  });

  it("filters by state, and shows another org nothing of this one's", async () => {
    rt.sink.respondSequence("/list/missing", [{ status: 404 }]);
    const failed = await submit({ method: "POST", url: `${rt.sink.url}/list/missing` });
    const succeeded = await submit({ method: "POST", url: `${rt.sink.url}/list/found` });
    await waitForCallStates(ctx, [failed, succeeded], ["succeeded", "failed"], 10_000);
    const res = await list("?state=failed&limit=1000");
    expect(res.status).toBe(200);
    const ids = (res.body.calls as CallRecord[]).map((record) => record.callId);
    expect(ids).toContain(failed);
    expect(ids).not.toContain(succeeded);
    expect((res.body.calls as CallRecord[]).every((record) => record.state === "failed")).toBe(true);

    const stranger = await ctx.app.createTenant();
    const theirs = await list("?limit=1000", stranger);
    expect(theirs.status).toBe(200);
    expect(theirs.body).toEqual({ calls: [] });
  });

  it.each([
    ["limit=0", "limit"],
    ["limit=1001", "limit"],
    ["limit=ten", "limit"],
    ["state=lost", "state"],
    ["cursor=not-a-cursor", "cursor"],
    [`cursor=${Buffer.from('["1",{}]').toString("base64url")}`, "cursor"],
    ["order=asc", "body"],
  ])("?%s: 400 ERR_CALL_INVALID naming %s", async (query, path) => {
    const res = await list(`?${query}`);
    expectEnvelope(res, { status: 400, code: ERRORS.CALL_INVALID.code, family: "INPUT_OUTPUT_ERROR" });
    expect(res.body.errors).toEqual([expect.objectContaining({ path })]);
  });
});

describe("POST /runtime/calls/{callId}/replay", () => {
  it("sends a failed call again as a new call with the same request, naming the call it replays", async () => {
    rt.sink.respondSequence("/replay/target", [{ status: 404 }]);
    const call = {
      method: "PUT",
      url: `${rt.sink.url}/replay/target?x=1`,
      headers: { "X-Trace": "t-1" },
      body: { order: 42 },
      timeoutMs: 5000,
      callbackUrl: `${rt.sink.url}/replay/callback`,
    };
    const original = await submit(call);
    expect((await waitForCallStates(ctx, [original], ["failed"], 10_000))[0]).toMatchObject({ response: { status: 404 } });

    const res = await replay(original);
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body).toMatchObject({ state: "queued", throttled: false, replayOf: original });
    const replayed = res.body.callId as string;
    expect(replayed).not.toBe(original);
    const [record] = await waitForCallStates(ctx, [replayed], ["succeeded"], 10_000);
    expect(record).toMatchObject({ replayOf: original, method: "PUT", url: call.url, attempts: 1 });

    const [first, second] = rt.sink.arrivalsFor("/replay/target");
    expect(second).toMatchObject({ method: "PUT", path: "/replay/target?x=1", body: first!.body });
    expect(JSON.parse(second!.body)).toEqual({ order: 42 });
    expect(second!.headers).toMatchObject({ "x-trace": "t-1", "content-type": "application/json", "sluice-call-id": replayed });
    expect(first!.headers["sluice-call-id"]).toBe(original);
    // The callbackUrl comes along: both calls are called back.
    const callbacks = await rt.sink.waitForArrivals(2, { pathPrefix: "/replay/callback", timeoutMs: 10_000 });
    expect(callbacks.map((arrival) => arrival.headers["webhook-id"]).sort()).toEqual([original, replayed].sort());
    // The original is untouched and can be replayed again.
    expect(await getCall(ctx, original)).toMatchObject({ state: "failed" });
    expect((await replay(original)).status).toBe(202);
  });

  it("a succeeded or queued call: 409 ERR_CALL_NOT_REPLAYABLE; an unknown or foreign one: 404", async () => {
    const done = await submit({ method: "POST", url: `${rt.sink.url}/replay/ok` });
    await waitForCallStates(ctx, [done], ["succeeded"], 10_000);
    const refused = expectEnvelope(await replay(done), { status: 409, code: ERRORS.CALL_NOT_REPLAYABLE.code, family: "INPUT_OUTPUT_ERROR", message: ERRORS.CALL_NOT_REPLAYABLE.message });
    expect(refused.inner.context).toContain("succeeded");

    rt.sink.respondSequence("/replay/paused", [{ status: 429, headers: { "retry-after": "3" } }]);
    const paused = await submit({ method: "POST", url: `${rt.sink.url}/replay/paused` });
    await rt.sink.waitForArrivals(1, { pathPrefix: "/replay/paused", timeoutMs: 5000 });
    // Its 429 reached the sink; it is queued again once the worker has read that answer.
    await waitForCallStates(ctx, [paused], ["queued"], 5000);
    expectEnvelope(await replay(paused), { status: 409, code: ERRORS.CALL_NOT_REPLAYABLE.code, family: "INPUT_OUTPUT_ERROR" });

    expectEnvelope(await replay("u-nothing.here"), { status: 404, code: ERRORS.CALL_NOT_FOUND.code, family: "INPUT_OUTPUT_ERROR" });
    const stranger = await ctx.app.createTenant();
    expectEnvelope(await replay(done, stranger), { status: 404, code: ERRORS.CALL_NOT_FOUND.code, family: "INPUT_OUTPUT_ERROR" });
    await waitForCallStates(ctx, [paused], ["succeeded"], 10_000);
  });
});
