import { Router, type Request, type RequestHandler } from "express";
import { collectDefaultMetrics, Gauge, Histogram, Registry, type Metric } from "prom-client";
import type { LaneReading, LaneSnapshot } from "../runtime/runtime-status.js";
import { LATENCY_BUCKETS_MS } from "../runtime/stats.js";
import { ApiError } from "../shared/errors/api-error.js";
import type { Logger } from "../shared/logger.js";
import type { RedisNodeHealth } from "../shared/redis.js";
import { bearerToken, sameSecret } from "./bearer.js";

export const METRICS_PATH = "/metrics";
/** What a scrape without the right METRICS_TOKEN is told. */
export const METRICS_UNAUTHORIZED = "metrics: send Authorization: Bearer <METRICS_TOKEN>";

type Labels = Record<string, string>;
interface Sample {
  metricName?: string;
  labels: Labels;
  value: number;
}
interface RuntimeScrape {
  /** False when Postgres or Redis could not be read: the runtime series are then absent from this scrape. */
  ok: boolean;
  lanes: LaneReading[];
}

export interface AppMetrics {
  /** Times every request; label it with the route pattern it matched. Mount before the routers. */
  httpLatency: RequestHandler;
  router: Router;
}

/**
 * Prometheus metrics of one app instance (its own registry): the API's latency by route and status, process
 * metrics, and the runtime's queues and counters. The runtime counters live in Redis and are read at scrape time,
 * so every API replica reports the same totals, summed over all worker processes.
 */
export function createMetrics(deps: {
  readRuntime: () => Promise<LaneReading[]>;
  /** Each Redis node's health (CONTRACT §13: per node on a cluster). */
  readRedisNodes: () => Promise<RedisNodeHealth[]>;
  logger: Logger;
  /** METRICS_TOKEN: when set, a scrape must send `Authorization: Bearer <token>`. */
  token: string | undefined;
}): AppMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const httpDuration = new Histogram({
    name: "sluice_http_request_duration_seconds",
    help: "API request duration by method, matched route pattern and status.",
    labelNames: ["method", "route", "status"] as const,
    registers: [registry],
  });

  new Gauge({
    name: "sluice_redis_node_up",
    help: "1 if the Redis node answered PING within a second, else 0: the one Redis, or each master and replica of a cluster.",
    labelNames: ["node", "role"] as const,
    registers: [registry],
    async collect() {
      const nodes = await deps.readRedisNodes();
      this.reset();
      for (const { node, role, ok } of nodes) this.set({ node, role }, ok ? 1 : 0);
    },
  });

  // One Redis read per scrape, shared by every runtime family (the registry asks them all in the same tick).
  let inFlight: Promise<RuntimeScrape> | undefined;
  const scrape = (): Promise<RuntimeScrape> =>
    (inFlight ??= deps
      .readRuntime()
      .then(
        (lanes) => ({ ok: true, lanes }),
        (error: unknown) => {
          deps.logger.warn({ err: error }, "runtime metrics left out of this scrape");
          return { ok: false, lanes: [] };
        },
      )
      .finally(() => (inFlight = undefined)));
  for (const family of runtimeFamilies(scrape)) registry.registerMetric(family);

  const router = Router();
  router.get(METRICS_PATH, async (req, res) => {
    const given = bearerToken(req);
    if (deps.token && (given === undefined || !sameSecret(given, deps.token))) {
      throw new ApiError("UNAUTHORIZED", { message: METRICS_UNAUTHORIZED });
    }
    res.type(registry.contentType).send(await registry.metrics());
  });

  return {
    router,
    httpLatency: (req, res, next) => {
      const route = matchedRoute(req);
      const end = httpDuration.startTimer();
      res.on("finish", () => end({ method: req.method, route: route(), status: String(res.statusCode) }));
      next();
    },
  };
}

function runtimeFamilies(scrape: () => Promise<RuntimeScrape>): Metric[] {
  type Samples = (lanes: LaneReading[], ok: boolean) => Sample[];
  const family = (type: "gauge" | "counter" | "histogram") => (name: string, help: string, samples: Samples) =>
    scrapedFamily(scrape, name, help, type, samples);
  const [gauge, counter, histogram] = [family("gauge"), family("counter"), family("histogram")];
  const perLane = (value: (snapshot: LaneSnapshot) => number) => (lanes: LaneReading[]) =>
    lanes.map((reading) => ({ labels: laneLabels(reading), value: value(reading.snapshot) }));
  const total = (field: "sent" | "retried" | "succeeded" | "failed" | "expired" | "dropped") =>
    perLane((snapshot) => snapshot.stats[field]);

  return [
    gauge("sluice_runtime_stats_up", "1 if this scrape could read the runtime's queues and counters, else 0.", (_lanes, ok) => [
      { labels: {}, value: ok ? 1 : 0 },
    ]),
    gauge("sluice_queue_depth", "Calls queued in a lane (waiting, delayed or held by a worker).", perLane((s) => s.queued)),
    gauge("sluice_queue_oldest_age_seconds", "Age of the oldest call waiting in a lane; 0 when none.",
      perLane((s) => s.oldestQueuedAgeMs / 1000)),
    gauge("sluice_calls_in_flight", "Requests of a lane being sent right now, over every worker process.",
      (lanes) => lanes.map((reading) => ({ labels: laneLabels(reading), value: reading.inFlight }))),
    counter("sluice_calls_sent_total", "Requests sent to targets, retries included.", total("sent")),
    counter("sluice_calls_retried_total", "Requests sent as a retry of an earlier failed attempt.", total("retried")),
    counter("sluice_calls_succeeded_total", "Calls that ended succeeded.", total("succeeded")),
    counter("sluice_calls_failed_total", "Calls that ended failed.", total("failed")),
    counter("sluice_calls_expired_total", "Calls not sent within the queue retention.", total("expired")),
    counter("sluice_calls_dropped_total", "Calls still queued when their runtime version finished draining.", total("dropped")),
    histogram("sluice_send_duration_seconds", "Duration of each request sent to a target.", (lanes) => lanes.flatMap(latencySamples)),
  ];
}

/**
 * A family whose samples are computed from the runtime scrape each time the registry asks. prom-client's types
 * only admit its own metric classes, none of which can expose counts kept elsewhere (a histogram's buckets least
 * of all); the registry itself only reads `name` and calls `get()`.
 */
function scrapedFamily(
  scrape: () => Promise<RuntimeScrape>,
  name: string,
  help: string,
  type: "gauge" | "counter" | "histogram",
  samples: (lanes: LaneReading[], ok: boolean) => Sample[],
): Metric {
  const metric = {
    name,
    async get() {
      const { ok, lanes } = await scrape();
      return { name, help, type, values: samples(lanes, ok) };
    },
  };
  return metric as unknown as Metric;
}

/**
 * A runtime version's lane by its id, org and number; an org's unthrottled lane as `unthrottled` with its org; a
 * capping config's lane by its config, service, org and deploy count.
 */
function laneLabels({ lane, version }: LaneReading): Labels {
  const org = version?.orgId ?? "";
  const number = version ? String(version.version) : "";
  if (lane.kind === "unthrottled") return { runtime_version: "unthrottled", org_id: lane.orgId, version: "" };
  if (lane.kind === "capped") return { capping_config: version?.cappingConfigUid ?? "", service: lane.service, org_id: org, version: number };
  return { runtime_version: lane.runtimeVersionId, org_id: org, version: number };
}

function latencySamples(reading: LaneReading): Sample[] {
  const labels = laneLabels(reading);
  const { buckets, count, sumMs } = reading.snapshot.stats.latency;
  const name = "sluice_send_duration_seconds";
  return [
    ...[...LATENCY_BUCKETS_MS, "+Inf" as const].map((bound) => ({
      metricName: `${name}_bucket`,
      labels: { ...labels, le: bound === "+Inf" ? bound : String(bound / 1000) },
      value: buckets[String(bound)] ?? 0,
    })),
    { metricName: `${name}_sum`, labels, value: sumMs / 1000 },
    { metricName: `${name}_count`, labels, value: count },
  ];
}

/**
 * The route pattern a request matched, e.g. `/authoring/throttlingConfigs/:uid`, never its raw URL. Express only
 * knows the pattern relative to its router (`req.route.path`) and resets `req.baseUrl` when an error leaves the
 * router, so both are captured as Express assigns them. A request that matched no route is labelled with the
 * deepest router it entered (`/authoring/*`: e.g. refused by authentication) or `unmatched`.
 */
function matchedRoute(req: Request): () => string {
  let baseUrl = req.baseUrl;
  let deepestBase = "";
  let route: unknown;
  let pattern: string | undefined;
  Object.defineProperties(req, {
    baseUrl: {
      configurable: true,
      enumerable: true,
      get: () => baseUrl,
      set(value: string) {
        baseUrl = value;
        if (value.length > deepestBase.length) deepestBase = value;
      },
    },
    route: {
      configurable: true,
      enumerable: true,
      get: () => route,
      set(value: { path?: unknown } | undefined) {
        route = value;
        if (typeof value?.path === "string") pattern = baseUrl + value.path;
      },
    },
  });
  return () => pattern ?? (deepestBase ? `${deepestBase}/*` : "unmatched");
}
