import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callsTo, deployConfig, submitBatch, waitForCallStates } from "../support/runtime.js";
import { startSink, type Sink } from "../support/sink.js";
import { useTestApp, type TestContext } from "../support/test-app.js";
import { maxInSlidingWindow, spanMs } from "../support/timing.js";
import { startWorkerProcess, type WorkerProcess } from "../support/worker-process.js";

const ctx = useTestApp();
let sink: Sink;
let worker: WorkerProcess | undefined;
let configUid: string;
beforeAll(async () => {
  sink = await startSink();
  ({ uid: configUid } = await deployConfig(ctx, { urlPattern: `${sink.url}/t/*`, methods: ["POST"], maxThroughput: 200 }));
  worker = await startWorkerProcess(ctx.app);
});
afterAll(async () => {
  await worker?.stop();
  await sink?.close();
});

const submit = (call: object, headers = ctx.tenant.headers()) => ctx.app.request().post("/runtime/calls").set(headers).send(call);

const succeeded = (callIds: string[], as: TestContext = ctx) => waitForCallStates(as, callIds, ["succeeded"], 10_000);

describe("matching against the org's deployed config", () => {
  it("a matching call joins the runtime version's queue: throttled, with the config uid and runtimeVersion 1", async () => {
    const res = await submit({ method: "POST", url: `${sink.url}/t/match` });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ callId: expect.any(String), state: "queued", throttled: true, throttlingConfigUid: configUid, runtimeVersion: 1 });
    const [record] = await succeeded([res.body.callId]);
    expect(record).toMatchObject({ throttled: true, throttlingConfigUid: configUid, runtimeVersion: 1 });
    expect(sink.arrivalsFor("/t/match")).toHaveLength(1);
  });

  it.each([
    ["a URL outside the pattern", { method: "POST", url: "/other/path" }],
    ["a matching URL with a method the config does not list", { method: "PUT", url: "/t/put" }],
  ])("%s is unthrottled, and sent", async (_name, { method, url }) => {
    const res = await submit({ method, url: `${sink.url}${url}` });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ callId: expect.any(String), state: "queued", throttled: false });
    const [record] = await succeeded([res.body.callId]);
    expect(record).toMatchObject({ throttled: false, method, attempts: 1 });
    expect(record).not.toHaveProperty("throttlingConfigUid");
    expect(sink.arrivalsFor(url).map((a) => a.method)).toEqual([method]);
  });

  it("a batch is matched call by call", async () => {
    const accepted = await submitBatch(ctx, [
      { method: "POST", url: `${sink.url}/t/batch-1` },
      { method: "POST", url: `${sink.url}/batch-2` },
      { method: "GET", url: `${sink.url}/t/batch-3` },
    ]);
    expect(accepted.map((c) => c.throttled)).toEqual([true, false, false]);
    const records = await succeeded(accepted.map((c) => c.callId));
    expect(records.map((r) => r.throttled)).toEqual([true, false, false]);
  });

  it("another org's calls to the same URL are not throttled by this org's config", async () => {
    const other = await ctx.app.createTenant();
    const res = await submit({ method: "POST", url: `${sink.url}/t/other-org` }, other.headers());
    expect(res.body).toEqual({ callId: expect.any(String), state: "queued", throttled: false });
    const [record] = await succeeded([res.body.callId], { app: ctx.app, tenant: other });
    expect(record!.throttled).toBe(false);
  });

  it("unthrottled calls are not held to N: 300 at N=200 arrive with more than 200 in one second, well within 1.5 s", async () => {
    const accepted = await submitBatch(ctx, callsTo(`${sink.url}/free/`, 300));
    expect(accepted.every((c) => !c.throttled)).toBe(true);
    await sink.waitForArrivals(300, { pathPrefix: "/free/", timeoutMs: 10_000 });
    const times = sink.arrivalTimes("/free/");
    // Paced at 200/s, 300 calls would need at least 1.5 s.
    expect(spanMs(times)).toBeLessThan(1500);
    expect(maxInSlidingWindow(times)).toBeGreaterThan(200);
  });
});
