import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERRORS } from "../../src/shared/errors/catalogue.js";
import { startConnectProxy, type ConnectProxy } from "../support/connect-proxy.js";
import { expectEnvelope } from "../support/envelope.js";
import { loopbackHostName } from "../support/loopback-name.js";
import { getCall, waitForCallStates } from "../support/runtime.js";
import { startSink, type Sink } from "../support/sink.js";
import { egressAllowFor } from "../support/egress-allow.js";
import { useTestApp, type TestContext } from "../support/test-app.js";
import { startWorkerProcess, type WorkerProcess } from "../support/worker-process.js";

// CONTRACT §9, end to end: the API refuses denied IP literals on sight; the worker checks every connection it makes
// on the address it reaches; redirects are never followed; EGRESS_ALLOW / EGRESS_DENY / OUTBOUND_PROXY_URL.

const submit = (ctx: TestContext, call: object) => ctx.app.request().post("/runtime/calls").set(ctx.tenant.headers()).send(call);
const queuedCount = async (ctx: TestContext) =>
  Number((await ctx.app.redis.get(ctx.app.keys.orgQueued(ctx.tenant.orgId))) ?? 0);
const finalRecord = async (ctx: TestContext, callId: string) =>
  (await waitForCallStates(ctx, [callId], ["succeeded", "failed"], 10_000))[0]!;

/** Sinks on three consecutive ports P, P+1, P+2 (retrying until such a run is free). */
async function sinksOnConsecutivePorts(): Promise<[Sink, Sink, Sink]> {
  for (;;) {
    const first = 20_000 + Math.floor(Math.random() * 30_000);
    const started: Sink[] = [];
    try {
      for (let i = 0; i < 3; i++) started.push(await startSink({ port: first + i }));
      return started as [Sink, Sink, Sink];
    } catch {
      await Promise.all(started.map((sink) => sink.close()));
    }
  }
}

describe("at acceptance: a URL whose host is a denied IP literal, or localhost, is refused with 400 naming the rule", () => {
  const ctx = useTestApp();

  it.each([
    ["127.0.0.1", "http://127.0.0.1:3000/metrics", "loopback"],
    ["2130706433", "http://2130706433/", "loopback"],
    ["0x7f.0.0.1", "http://0x7f.0.0.1/", "loopback"],
    ["0x7f.1", "http://0x7f.1/", "loopback"],
    ["[::1]", "http://[::1]:3000/", "loopback"],
    ["[::ffff:127.0.0.1]", "http://[::ffff:127.0.0.1]/", "loopback"],
    ["localhost", "http://localhost:3000/metrics", "loopback"],
    ["169.254.169.254", "http://169.254.169.254/latest/meta-data/", "link-local"],
    ["[::ffff:169.254.169.254]", "http://[::ffff:169.254.169.254]/", "link-local"],
    ["10.1.2.3", "https://10.1.2.3/", "private"],
    ["172.16.5.4", "http://172.16.5.4/", "private"],
    ["192.168.0.1", "http://192.168.0.1/", "private"],
    ["[fd00::1]", "http://[fd00::1]/", "unique local"],
    ["[fe80::1]", "http://[fe80::1]/", "link-local"],
    ["0.0.0.0", "http://0.0.0.0:3000/", "unspecified"],
    ["100.64.0.1", "http://100.64.0.1/", "shared address space"],
    ["224.0.0.1", "http://224.0.0.1/", "multicast"],
    ["198.18.0.1", "http://198.18.0.1/", "benchmarking"],
    ["192.0.0.1", "http://192.0.0.1/", "IETF"],
  ])("%s", async (_notation, url, rule) => {
    const res = await submit(ctx, { method: "GET", url });
    expectEnvelope(res, { status: 400, code: ERRORS.CALL_INVALID.code, family: "INPUT_OUTPUT_ERROR" });
    expect(res.body.errors).toEqual([{ path: "url", message: expect.stringContaining(rule) }]);
    expect(res.body.errors[0].message).toMatch(/which the egress policy denies$/);
  });

  it("a denied callbackUrl, and a denied call in a batch, are named by their path", async () => {
    const callback = await submit(ctx, { method: "GET", url: "https://api.example.org/x", callbackUrl: "http://127.0.0.1:3000/cb" });
    expect(callback.status).toBe(400);
    expect(callback.body.errors).toEqual([{ path: "callbackUrl", message: expect.stringContaining("loopback") }]);
    const batch = await ctx.app.request().post("/runtime/calls/batch").set(ctx.tenant.headers())
      .send({ calls: [{ method: "GET", url: "https://api.example.org/x" }, { method: "GET", url: "http://[::1]/" }] });
    expect(batch.status).toBe(400);
    expect(batch.body.errors).toEqual([{ path: "calls.1.url", message: expect.stringContaining("loopback") }]);
  });

  it("queued nothing for any of them, and accepts host names and public addresses", async () => {
    expect(await queuedCount(ctx)).toBe(0);
    expect((await submit(ctx, { method: "GET", url: "https://api.example.org/x" })).status).toBe(202);
    expect((await submit(ctx, { method: "GET", url: "http://93.184.216.34/x" })).status).toBe(202);
  });
});

describe("at send time, with EGRESS_ALLOW naming only the sink", () => {
  let sink: Sink;
  let forbidden: Sink;
  let name: string;
  let worker: WorkerProcess;
  beforeAll(async () => {
    [sink, forbidden, name] = await Promise.all([startSink(), startSink(), loopbackHostName()]);
  });
  const ctx = useTestApp(() => egressAllowFor(sink.url));
  beforeAll(async () => {
    worker = await startWorkerProcess(ctx.app);
  });
  afterAll(async () => {
    await worker?.stop();
    await Promise.all([sink?.close(), forbidden?.close()]);
  });

  it("a host name that resolves to loopback on a port not allowed: failed, egress_denied, no response, no retry, nothing received", async () => {
    const res = await submit(ctx, { method: "POST", url: `http://${name}:${new URL(forbidden.url).port}/internal`, body: { a: 1 } });
    expect(res.status).toBe(202);
    const record = await finalRecord(ctx, res.body.callId);
    expect(record).toMatchObject({ state: "failed", error: "egress_denied: 127.0.0.1" });
    expect(record).not.toHaveProperty("response");
    await sleep(1000);
    expect(await getCall(ctx, res.body.callId)).toMatchObject({ state: "failed", attempts: record.attempts });
    expect(forbidden.arrivals).toEqual([]);
  });

  it("the same name on the allowed port gets through", async () => {
    const res = await submit(ctx, { method: "POST", url: `http://${name}:${new URL(sink.url).port}/by-name` });
    expect(await finalRecord(ctx, res.body.callId)).toMatchObject({ state: "succeeded", response: { status: 200 } });
    expect(sink.arrivalsFor("/by-name")).toHaveLength(1);
  });

  it("a 302 to Sluice's own /metrics is not followed: failed with the 302 recorded, Sluice's port receives nothing", async () => {
    // How many GET /metrics the API had answered before this scrape.
    const metricsRequests = async () => {
      const text = (await ctx.app.request().get("/metrics")).text;
      const line = text.split("\n").find((l) => l.startsWith('sluice_http_request_duration_seconds_count{method="GET",route="/metrics"'));
      return line ? Number(line.split(" ").at(-1)) : 0;
    };
    const before = await metricsRequests();
    sink.respond((arrival) =>
      arrival.path === "/redirect" ? { status: 302, headers: { location: `${ctx.app.url}/metrics` }, body: "moved" } : {},
    );
    const res = await submit(ctx, { method: "GET", url: `${sink.url}/redirect` });
    const record = await finalRecord(ctx, res.body.callId);
    expect(record).toMatchObject({ state: "failed", attempts: 1, response: { status: 302, headers: { location: `${ctx.app.url}/metrics` } } });
    expect(record.error).toMatch(/^HTTP 302/);
    await sleep(500);
    // The only request /metrics answered since is this test's own first scrape.
    expect(await metricsRequests()).toBe(before + 1);
    expect(sink.arrivalsFor("/redirect")).toHaveLength(1);
  });
});

describe("EGRESS_ALLOW with a port range, narrowed by EGRESS_DENY", () => {
  let sinks: [Sink, Sink, Sink];
  let name: string;
  let worker: WorkerProcess;
  const port = (i: number) => Number(new URL(sinks[i]!.url).port);
  beforeAll(async () => {
    [sinks, name] = await Promise.all([sinksOnConsecutivePorts(), loopbackHostName()]);
  });
  // P..P+2 allowed, P+2 denied again: P and P+1 are reachable, P+2 is not, nor is anything else.
  const ctx = useTestApp(() => ({ EGRESS_ALLOW: `127.0.0.1:${port(0)}-${port(2)}`, EGRESS_DENY: `127.0.0.1:${port(2)}` }));
  beforeAll(async () => {
    worker = await startWorkerProcess(ctx.app);
  });
  afterAll(async () => {
    await worker?.stop();
    await Promise.all((sinks ?? []).map((sink) => sink.close()));
  });

  it("at acceptance: the range is admitted, the denied port and the ports around it are refused", async () => {
    for (const i of [0, 1]) expect((await submit(ctx, { method: "GET", url: `http://127.0.0.1:${port(i)}/literal` })).status).toBe(202);
    for (const p of [port(2), port(0) - 1, port(2) + 1]) {
      expect((await submit(ctx, { method: "GET", url: `http://127.0.0.1:${p}/literal` })).status).toBe(400);
    }
  });

  it("at send time, by name: exactly the range minus the denied port is reached", async () => {
    const ids = [];
    for (const i of [0, 1, 2]) ids.push((await submit(ctx, { method: "GET", url: `http://${name}:${port(i)}/named` })).body.callId as string);
    const records = await waitForCallStates(ctx, ids, ["succeeded", "failed"], 10_000);
    expect(records.map((r) => r.state)).toEqual(["succeeded", "succeeded", "failed"]);
    expect(records[2]!.error).toBe("egress_denied: 127.0.0.1");
    expect(sinks.map((sink) => sink.arrivalsFor("/named").length)).toEqual([1, 1, 0]);
  });
});

describe("OUTBOUND_PROXY_URL", () => {
  let proxy: ConnectProxy;
  let sink: Sink;
  let worker: WorkerProcess;
  beforeAll(async () => {
    [proxy, sink] = await Promise.all([startConnectProxy(), startSink()]);
  });
  // Only the proxy is allowed: the policy applies to the proxy's address, the proxy decides the rest.
  const ctx = useTestApp(() => ({ OUTBOUND_PROXY_URL: proxy.url, ...egressAllowFor(proxy.url) }));
  beforeAll(async () => {
    worker = await startWorkerProcess(ctx.app);
  });
  afterAll(async () => {
    await worker?.stop();
    await Promise.all([proxy?.close(), sink?.close()]);
  });

  it("sends every call through the proxy", async () => {
    const res = await submit(ctx, { method: "POST", url: `${sink.url}/proxied`, body: { via: "proxy" } });
    expect(res.status).toBe(202);
    expect(await finalRecord(ctx, res.body.callId)).toMatchObject({ state: "succeeded" });
    expect(JSON.parse(sink.arrivalsFor("/proxied")[0]!.body)).toEqual({ via: "proxy" });
    expect(proxy.tunnels).toContain(new URL(sink.url).host);
  });
});
