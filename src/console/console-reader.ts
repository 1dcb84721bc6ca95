import type { Db } from "../db/prisma.js";
import type { CallRecord, CallState } from "../runtime/accept/call.schema.js";
import type { CallService } from "../runtime/accept/call.service.js";
import { readInFlight } from "../runtime/in-flight.js";
import { laneId, throttledLane, type RuntimeKeys } from "../runtime/keys.js";
import type { RuntimeStatusReader } from "../runtime/runtime-status.js";
import { SENT_HISTORY_S, type RuntimeStats } from "../runtime/stats.js";
import type { RedisClient } from "../shared/redis.js";
import { ApiError } from "../shared/errors/api-error.js";
import type { ConfigLive, ConsoleOrg, FailedCall } from "./console.schema.js";

/** The terminal states the console lists as failures, each looked up among the org's latest calls. */
const FAILURE_STATES = ["failed", "expired", "dropped"] as const satisfies readonly CallState[];
const FAILURES_PER_STATE = 20;

export interface ConsoleReaderDeps {
  db: Db;
  redis: RedisClient;
  keys: RuntimeKeys;
  stats: RuntimeStats;
  runtimeStatus: RuntimeStatusReader;
  calls: CallService;
}

/**
 * What the operator console shows, read from the same stores as the API and /metrics. It never returns a call's
 * request or response headers or bodies, nor a URL's query string (it may carry a tenant's key): only what an
 * operator needs to see how a call ended.
 */
export class ConsoleReader {
  constructor(private readonly deps: ConsoleReaderDeps) {}

  /** Every org with its throttling configs, their state and runtime block. */
  async orgs(): Promise<ConsoleOrg[]> {
    const orgs = await this.deps.db.org.findMany({
      orderBy: { id: "asc" },
      select: {
        id: true,
        name: true,
        plan: true,
        configs: {
          select: { uid: true, name: true, sandboxName: true, state: true, urlPattern: true, methods: true, maxThroughput: true },
        },
      },
    });
    const runtime = await this.deps.runtimeStatus.forConfigs(orgs.flatMap((org) => org.configs.map((config) => config.uid)));
    return orgs.map((org) => ({
      ...org,
      configs: org.configs.map((config) => {
        const block = runtime.get(config.uid);
        return { ...config, name: config.name ?? null, ...(block ? { runtime: block } : {}) };
      }),
    }));
  }

  /** A config's live figures: its latest runtime version's sends per second over the last 5 minutes and its queue. */
  async live(configUid: string, nowMs = Date.now()): Promise<ConfigLive> {
    const { db, redis, keys, stats, runtimeStatus } = this.deps;
    const version = await db.runtimeVersion.findFirst({
      where: { configUid },
      orderBy: { version: "desc" },
      select: { id: true, version: true, status: true, maxThroughput: true, drainUntil: true },
    });
    if (!version) throw new ApiError("NOT_FOUND", { context: `no runtime version for config ${configUid}` });
    const lane = throttledLane(version.id);
    const [sentPerSecond, queue, pausedUntil, inFlight] = await Promise.all([
      stats.sentPerSecond(lane, SENT_HISTORY_S, nowMs),
      runtimeStatus.queue(lane),
      redis.get(keys.pause(lane, "")),
      readInFlight(redis, keys, nowMs),
    ]);
    const pausedUntilMs = Number(pausedUntil ?? 0);
    return {
      configUid,
      version: version.version,
      status: version.status,
      ...(version.drainUntil ? { drainUntil: version.drainUntil.toISOString() } : {}),
      limitPerSecond: version.maxThroughput,
      endSecond: Math.floor(nowMs / 1000),
      sentPerSecond,
      ...queue,
      pausedUntil: pausedUntilMs > nowMs ? new Date(pausedUntilMs).toISOString() : null,
      inFlight: inFlight.get(laneId(lane)) ?? 0,
    };
  }

  /** The org's latest failed, expired and dropped calls, newest first. */
  async failures(orgId: string): Promise<FailedCall[]> {
    const lists = await Promise.all(FAILURE_STATES.map((state) => this.deps.calls.list(orgId, { state, limit: FAILURES_PER_STATE })));
    return lists
      .flatMap((list) => list.calls)
      .sort((a, b) => (b.completedAt ?? b.acceptedAt).localeCompare(a.completedAt ?? a.acceptedAt))
      .map(failedCall);
  }
}

/** A failed call as the console shows it: no headers, no bodies, no query string. */
function failedCall(record: CallRecord): FailedCall {
  const url = new URL(record.url);
  return {
    callId: record.callId,
    state: record.state,
    method: record.method,
    target: url.origin + url.pathname,
    attempts: record.attempts,
    acceptedAt: record.acceptedAt,
    ...(record.completedAt ? { completedAt: record.completedAt } : {}),
    ...(record.response ? { status: record.response.status } : {}),
    ...(record.error ? { error: record.error } : {}),
    ...(record.throttlingConfigUid ? { throttlingConfigUid: record.throttlingConfigUid } : {}),
  };
}
