import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LATENCY_BUCKETS_MS } from "../../src/runtime/stats.js";
import { ERRORS } from "../../src/shared/errors/catalogue.js";
import { expectEnvelope } from "../support/envelope.js";
import { startSink, type Sink } from "../support/sink.js";
import { egressAllowFor } from "../support/egress-allow.js";
import { parseExposition, scrape, valueOf } from "../support/prometheus.js";
import { useTestApp } from "../support/test-app.js";
import { waitFor } from "../support/timing.js";
import { startWorkerProcess } from "../support/worker-process.js";

// CONTRACT §8: /metrics in the Prometheus text format (unauthenticated unless METRICS_TOKEN is set, §11). Runtime
// series per runtime version and per org's unthrottled lane come from Redis at scrape time; the API's latency is
// labelled by route pattern.


describe("/metrics", () => {
  let sink: Sink;
  beforeAll(async () => {
    sink = await startSink();
  });
  const ctx = useTestApp(() => egressAllowFor(sink.url));
  let uid: string;
  let lane: Record<string, string>;
  let unthrottled: Record<string, string>;

  beforeAll(async () => {
    unthrottled = { runtime_version: "unthrottled", org_id: ctx.tenant.orgId, version: "" };
    sink.respondSequence("/limited/flaky", [{ status: 500 }]);
    sink.respond((arrival) => (arrival.path === "/limited/missing" ? { status: 404 } : {}));
    const created = await ctx.app.request().post("/authoring/throttlingConfigs").set(ctx.tenant.headers())
      .send({ urlPattern: `${sink.url}/limited/*`, methods: ["POST"], maxThroughput: 200 });
    uid = created.body.uid as string;
    await ctx.app.request().post(`/authoring/throttlingConfigs/${uid}/deploy`).set(ctx.tenant.headers()).expect(204);
    const version = await ctx.app.db.runtimeVersion.findFirstOrThrow({ where: { configUid: uid } });
    lane = { runtime_version: version.id, org_id: ctx.tenant.orgId, version: "1" };
  });
  afterAll(() => sink.close());

  it("is served unauthenticated, parses, and declares each family's type", async () => {
    const metrics = await scrape(ctx);
    expect(Object.fromEntries([...metrics.types].filter(([name]) => name.startsWith("sluice_")))).toEqual({
      sluice_http_request_duration_seconds: "histogram",
      sluice_runtime_stats_up: "gauge",
      sluice_queue_depth: "gauge",
      sluice_queue_oldest_age_seconds: "gauge",
      sluice_redis_node_up: "gauge",
      sluice_calls_in_flight: "gauge",
      sluice_calls_sent_total: "counter",
      sluice_calls_retried_total: "counter",
      sluice_calls_succeeded_total: "counter",
      sluice_calls_failed_total: "counter",
      sluice_calls_expired_total: "counter",
      sluice_calls_dropped_total: "counter",
      sluice_send_duration_seconds: "histogram",
    });
    expect(metrics.types.get("process_cpu_user_seconds_total")).toBe("counter");
    expect(metrics.types.get("nodejs_eventloop_lag_seconds")).toBe("gauge");
    expect(valueOf(metrics, "sluice_runtime_stats_up", {})).toBe(1);
  });

  it("reports queue depth and oldest age per lane while no worker runs", async () => {
    const calls = [
      ...Array.from({ length: 5 }, (_, i) => ({ method: "POST", url: `${sink.url}/limited/ok/${i}` })),
      { method: "POST", url: `${sink.url}/limited/flaky` },
      { method: "POST", url: `${sink.url}/limited/missing` },
      { method: "POST", url: `${sink.url}/other/a` },
      { method: "POST", url: `${sink.url}/other/b` },
    ];
    await ctx.app.request().post("/runtime/calls/batch").set(ctx.tenant.headers()).send({ calls }).expect(202);
    await new Promise((resolve) => setTimeout(resolve, 200));

    const metrics = await scrape(ctx);
    expect(valueOf(metrics, "sluice_queue_depth", lane)).toBe(7);
    expect(valueOf(metrics, "sluice_queue_depth", unthrottled)).toBe(2);
    expect(valueOf(metrics, "sluice_queue_oldest_age_seconds", lane)).toBeGreaterThanOrEqual(0.2);
    expect(valueOf(metrics, "sluice_queue_oldest_age_seconds", unthrottled)).toBeGreaterThanOrEqual(0.2);
    expect(valueOf(metrics, "sluice_calls_sent_total", lane)).toBe(0);
  });

  it("counts sends, retries and outcomes from Redis once a worker has sent them", async () => {
    const worker = await startWorkerProcess(ctx.app);
    try {
      // 5 ok + flaky (500 then 200) + missing (404, not retried) + 2 unthrottled = 10 requests.
      await sink.waitForArrivals(10, { timeoutMs: 10_000 });
      await waitFor(async () => valueOf(await scrape(ctx), "sluice_calls_succeeded_total", lane) === 6, {
        timeoutMs: 5000,
        message: "6 throttled calls succeeded",
      });
    } finally {
      await worker.stop();
    }
    const metrics = await scrape(ctx);
    const expected: [string, Record<string, string>, number][] = [
      ["sluice_calls_sent_total", lane, 8],
      ["sluice_calls_retried_total", lane, 1],
      ["sluice_calls_succeeded_total", lane, 6],
      ["sluice_calls_failed_total", lane, 1],
      ["sluice_calls_expired_total", lane, 0],
      ["sluice_calls_dropped_total", lane, 0],
      ["sluice_queue_depth", lane, 0],
      ["sluice_queue_oldest_age_seconds", lane, 0],
      ["sluice_calls_sent_total", unthrottled, 2],
      ["sluice_calls_succeeded_total", unthrottled, 2],
      ["sluice_queue_depth", unthrottled, 0],
    ];
    for (const [name, labels, value] of expected) expect(valueOf(metrics, name, labels), name).toBe(value);
  });

  it("exposes the send-latency histogram with cumulative buckets in seconds", async () => {
    const metrics = await scrape(ctx);
    const bounds = [...LATENCY_BUCKETS_MS.map((ms) => String(ms / 1000)), "+Inf"];
    const buckets = bounds.map((le) => valueOf(metrics, "sluice_send_duration_seconds_bucket", { ...lane, le }));
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
    expect(buckets.at(-1)).toBe(8);
    expect(valueOf(metrics, "sluice_send_duration_seconds_count", lane)).toBe(8);
    const sum = valueOf(metrics, "sluice_send_duration_seconds_sum", lane);
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeLessThan(8 * 5);
  });

  it("labels API latency by route pattern and status, never by raw URL", async () => {
    const headers = ctx.tenant.headers();
    const unknownUid = "00000000-0000-4000-8000-000000000000";
    await ctx.app.request().get(`/authoring/throttlingConfigs/${uid}`).set(headers).expect(200);
    await ctx.app.request().get(`/journey/orchestration/throttlingConfigs/${unknownUid}`).set(headers).expect(404);
    await ctx.app.request().get(`/authoring/throttlingConfigs/${uid}`).expect(401);
    await ctx.app.request().get(`/no/such/${uid}`).expect(404);

    const metrics = await scrape(ctx);
    const count = (route: string, status: string) =>
      valueOf(metrics, "sluice_http_request_duration_seconds_count", { method: "GET", route, status });
    expect(count("/authoring/throttlingConfigs/:uid", "200")).toBe(1);
    // The 404 leaves the router as an error: the pattern is still the one that matched.
    expect(count("/journey/orchestration/throttlingConfigs/:uid", "404")).toBe(1);
    // Refused before any route matched: labelled by the router it reached.
    expect(count("/authoring/*", "401")).toBe(1);
    expect(count("unmatched", "404")).toBe(1);
    expect(count("/metrics", "200")).toBeGreaterThanOrEqual(1);
    const httpLines = metrics.text.split("\n").filter((line) => line.startsWith("sluice_http_request_duration_seconds"));
    expect(httpLines.filter((line) => line.includes(uid) || line.includes(unknownUid))).toEqual([]);
  });
});

describe("/metrics with Redis unreachable", () => {
  const ctx = useTestApp({ REDIS_URL: "redis://127.0.0.1:1" });

  it("still answers, with process and API metrics, and says the runtime could not be read", async () => {
    const first = await scrape(ctx);
    expect(valueOf(first, "sluice_runtime_stats_up", {})).toBe(0);
    expect(first.samples.filter((s) => s.name === "sluice_queue_depth")).toEqual([]);
    expect(first.types.get("process_resident_memory_bytes")).toBe("gauge");

    // This app's own registry: the other app in this file served /metrics too, but only this scrape is counted here.
    const second = await scrape(ctx);
    expect(valueOf(second, "sluice_http_request_duration_seconds_count", { method: "GET", route: "/metrics", status: "200" })).toBe(1);
  });
});

describe("/metrics with METRICS_TOKEN set", () => {
  const TOKEN = "metrics-scraper-token-0123456789";
  const ctx = useTestApp({ METRICS_TOKEN: TOKEN });

  it.each([
    ["no Authorization header", undefined],
    ["a wrong token", "Bearer metrics-scraper-token-9876543210"],
    ["the token in another scheme", `Basic ${TOKEN}`],
  ])("answers 401 ERR_UNAUTHORIZED with the envelope for %s, and no metrics", async (_name, authorization) => {
    const request = ctx.app.request().get("/metrics");
    const res = await (authorization ? request.set("authorization", authorization) : request);
    expectEnvelope(res, { status: 401, code: ERRORS.UNAUTHORIZED.code, family: "AUTHENTICATION_ERROR" });
    expect(res.text).not.toContain("sluice_");
  });

  it("serves the metrics to the bearer of the token", async () => {
    const res = await ctx.app.request().get("/metrics").set("authorization", `Bearer ${TOKEN}`);
    expect(res.status).toBe(200);
    expect(parseExposition(res.text).types.get("sluice_runtime_stats_up")).toBe("gauge");
  });

  it("leaves /healthz and /readyz open", async () => {
    expect((await ctx.app.request().get("/healthz")).status).toBe(200);
    expect((await ctx.app.request().get("/readyz")).status).toBe(200);
  });
});
