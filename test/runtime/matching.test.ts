import { beforeAll, describe, expect, it } from "vitest";
import { callsTo, deployConfig, submitBatch, useRuntime, waitForCallStates } from "../support/runtime.js";
import { startSink } from "../support/sink.js";
import { type TestContext } from "../support/test-app.js";
import { maxInSlidingWindow, spanMs } from "../support/timing.js";

const rt = useRuntime({ startSink });
const { ctx } = rt;
let configUid: string;
beforeAll(async () => {
  ({ uid: configUid } = await deployConfig(ctx, { urlPattern: `${rt.sink.url}/t/*`, methods: ["POST"], maxThroughput: 200 }));
});

const submit = (call: object, headers = ctx.tenant.headers()) => ctx.app.request().post("/runtime/calls").set(headers).send(call);

const succeeded = (callIds: string[], as: TestContext = ctx) => waitForCallStates(as, callIds, ["succeeded"], 10_000);

describe("matching against the org's deployed config", () => {
  it("a matching call joins the runtime version's queue: throttled, with the config uid and runtimeVersion 1", async () => {
    const res = await submit({ method: "POST", url: `${rt.sink.url}/t/match` });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({
      callId: expect.any(String),
      state: "queued",
      throttled: true,
      throttlingConfigUid: configUid,
      runtimeVersion: 1,
      limitedBy: [{ api: "throttling", configUid }],
    });
    const [record] = await succeeded([res.body.callId]);
    expect(record).toMatchObject({ throttled: true, throttlingConfigUid: configUid, runtimeVersion: 1 });
    expect(rt.sink.arrivalsFor("/t/match")).toHaveLength(1);
  });

  it.each([
    ["a URL outside the pattern", { method: "POST", url: "/other/path" }],
    ["a matching URL with a method the config does not list", { method: "PUT", url: "/t/put" }],
  ])("%s is unthrottled, and sent", async (_name, { method, url }) => {
    const res = await submit({ method, url: `${rt.sink.url}${url}` });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ callId: expect.any(String), state: "queued", throttled: false });
    const [record] = await succeeded([res.body.callId]);
    expect(record).toMatchObject({ throttled: false, method, attempts: 1 });
    expect(record).not.toHaveProperty("throttlingConfigUid");
    expect(rt.sink.arrivalsFor(url).map((a) => a.method)).toEqual([method]);
  });

  it("a batch is matched call by call", async () => {
    const accepted = await submitBatch(ctx, [
      { method: "POST", url: `${rt.sink.url}/t/batch-1` },
      { method: "POST", url: `${rt.sink.url}/batch-2` },
      { method: "GET", url: `${rt.sink.url}/t/batch-3` },
    ]);
    expect(accepted.map((c) => c.throttled)).toEqual([true, false, false]);
    const records = await succeeded(accepted.map((c) => c.callId));
    expect(records.map((r) => r.throttled)).toEqual([true, false, false]);
  });

  it("another org's calls to the same URL are not throttled by this org's config", async () => {
    const other = await ctx.app.createTenant();
    const res = await submit({ method: "POST", url: `${rt.sink.url}/t/other-org` }, other.headers());
    expect(res.body).toEqual({ callId: expect.any(String), state: "queued", throttled: false });
    const [record] = await succeeded([res.body.callId], { app: ctx.app, tenant: other });
    expect(record!.throttled).toBe(false);
  });

  it("unthrottled calls are not held to N: 300 at N=200 arrive with more than 200 in one second, well within 1.5 s", async () => {
    const accepted = await submitBatch(ctx, callsTo(`${rt.sink.url}/free/`, 300));
    expect(accepted.every((c) => !c.throttled)).toBe(true);
    await rt.sink.waitForArrivals(300, { pathPrefix: "/free/", timeoutMs: 10_000 });
    const times = rt.sink.arrivalTimes("/free/");
    // Paced at 200/s, 300 calls would need at least 1.5 s.
    expect(spanMs(times)).toBeLessThan(1500);
    expect(maxInSlidingWindow(times)).toBeGreaterThan(200);
  });
});
