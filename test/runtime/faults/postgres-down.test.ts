import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectEnvelope } from "../../support/envelope.js";
import { callsTo, deployConfig, submitBatch, useRuntime, waitForCallStates } from "../../support/runtime.js";
import { startTimingSink } from "../../support/timing-sink.js";
import { startTcpProxy, type TcpProxy } from "../../support/tcp-proxy.js";
import { stallAware } from "../../support/timing.js";

// CONTRACT §10 fault test: Postgres unreachable for 10 s during a backlog. The API and the worker process reach it
// through a proxy the test cuts; the workers keep sending at the configured rate from what they know, authoring
// answers 503 with Retry-After, the call API accepts from what it cached, and everything resumes once Postgres is back.
const N = 200;
const OUTAGE_MS = 10_000;
let proxy: TcpProxy;
beforeAll(async () => {
  proxy = await startTcpProxy(5432);
});
afterAll(() => proxy?.close());
const rt = useRuntime({ startSink: startTimingSink, app: () => ({ databasePort: proxy.port }) });
const { ctx } = rt;

describe("Postgres unreachable for 10 s during a backlog", () => {
  it("sends on at the configured rate, authoring answers 503 with Retry-After, all resumes after", { timeout: 90_000 }, async () => {
    await deployConfig(ctx, { urlPattern: `${rt.sink.url}/pg/*`, methods: ["POST"], maxThroughput: N });
    const calls = callsTo(`${rt.sink.url}/pg/`, 16 * N);
    const accepted = await submitBatch(ctx, calls);
    await rt.sink.waitForArrivals(N, { pathPrefix: "/pg/", timeoutMs: 10_000 });

    const cutAt = Date.now();
    proxy.cut();
    await sleep(1000);
    const authoring = await ctx.app.request().post("/authoring/list/throttlingConfigs").set(ctx.tenant.headers());
    expectEnvelope(authoring, { status: 503, code: "ERR_DEPENDENCY_UNAVAILABLE", family: "UNAVAILABLE_ERROR" });
    expect(Number(authoring.headers["retry-after"])).toBeGreaterThan(0);
    // The call API works from what it cached (the credential, the org's deployed limits) and Redis.
    const submission = await ctx.app.request().post("/runtime/calls").set(ctx.tenant.headers()).send({ method: "POST", url: `${rt.sink.url}/pg-late/during` });
    expect(submission.status).toBe(202);
    expect((await ctx.app.request().get("/readyz")).body).toMatchObject({ postgres: false });
    await sleep(OUTAGE_MS - (Date.now() - cutAt));
    proxy.restore();
    const restoredAt = Date.now();

    const records = await waitForCallStates(ctx, accepted.map((call) => call.callId), ["succeeded"], 40_000);
    expect(records).toHaveLength(16 * N);
    const times = rt.sink.arrivalTimes("/pg/");
    const paths = new Set(rt.sink.arrivals.filter((arrival) => arrival.path.startsWith("/pg/")).map((arrival) => arrival.path));
    expect(paths.size).toBe(16 * N);
    // Within the outage, away from its edges: the configured rate, never more (as far as the sink can vouch).
    const measured = stallAware(rt.sink.stalls);
    const [from, to] = [cutAt + 1000, restoredAt - 1000];
    const during = (measured.countAtMost(times, from, to) * 1000) / (to - from - measured.longestMs);
    const largest = measured.maxInWindow(times);
    console.info(`postgres down ${restoredAt - cutAt} ms: ${during.toFixed(1)} sends/s during it, largest sliding second ${largest}, ` +
      `${times.length - paths.size} duplicates, 0 lost`);
    expect(during).toBeGreaterThanOrEqual(measured.floor(0.9 * N, N, from, to));
    expect(largest).toBeLessThanOrEqual(N);

    // Authoring and submissions work again.
    const after = await ctx.app.request().post("/authoring/list/throttlingConfigs").set(ctx.tenant.headers());
    expect(after.status).toBe(200);
    const late = await ctx.app.request().post("/runtime/calls").set(ctx.tenant.headers()).send({ method: "POST", url: `${rt.sink.url}/pg/after` });
    expect(late.status).toBe(202);
    await waitForCallStates(ctx, [late.body.callId as string, submission.body.callId as string], ["succeeded"], 10_000);
  });
});
