import type { RedisClient } from "../shared/redis.js";
import type { Db } from "../db/prisma.js";
import { withDeadline } from "../shared/deadline.js";
import type { Logger } from "../shared/logger.js";
import type { RuntimeStatus } from "../authoring/runtime-status.schema.js";
import { CAPPING_SERVICES, type CappingRuntimeValues, type CappingService } from "./capping-runtimes.js";
import { readInFlight } from "./in-flight.js";
import { readLaneBlocks, type LaneBlock } from "./lane-block.js";
import { cappedLane, laneId, throttledLane, type Lane, type RuntimeKeys } from "./keys.js";
import type { LaneStats, RuntimeStats } from "./stats.js";
import type { UnthrottledLanes } from "./unthrottled-lanes.js";

/** A lane's queue at this moment. */
export interface LaneQueue {
  /** Calls waiting, delayed, prioritized or being handled by a worker (waiting for their slot or being sent). */
  queued: number;
  oldestQueuedAgeMs: number;
}

/** What one lane holds at this moment: its queue and its counters (summed over every worker process). */
export interface LaneSnapshot extends LaneQueue {
  stats: LaneStats;
}

/**
 * What /metrics labels a lane with: a throttled lane's runtime version, a capped lane's capping runtime (its deploy
 * count, config and service); absent for an unthrottled lane.
 */
export interface VersionIdentity {
  orgId: string;
  version: number;
  cappingConfigUid?: string;
  service?: CappingService;
}

export interface LaneReading {
  lane: Lane;
  version?: VersionIdentity;
  snapshot: LaneSnapshot;
  /** Requests of the lane being sent right now, over every worker process. */
  inFlight: number;
}

/** A slow or unreachable Redis must not hold up a GET: past this, the runtime numbers are given up on. */
const REDIS_READ_DEADLINE_MS = 1000;

/**
 * Reads the runtime's state for the API: the `runtime` block of GET/list (CONTRACT §3) and the /metrics series.
 * Lanes are read concurrently over the one shared connection, so their commands go out back to back and a read
 * of any number of lanes costs about two Redis round trips (see lane-block.ts).
 */
export class RuntimeStatusReader {
  constructor(
    private readonly deps: {
      db: Db;
      redis: RedisClient;
      keys: RuntimeKeys;
      stats: RuntimeStats;
      unthrottled: UnthrottledLanes;
      logger: Logger;
    },
  ) {
  }

  /**
   * The runtime block of each throttling config that has a runtime version (its highest), by config uid; one query
   * for all. If Redis cannot be read the blocks are left out rather than filled with zeros: `queued: 0` would claim
   * an empty queue that may hold thousands of calls, while an absent block only says "unknown right now".
   */
  async forConfigs(configUids: string[]): Promise<Map<string, RuntimeStatus>> {
    if (configUids.length === 0) return new Map();
    const rows = await this.deps.db.runtimeVersion.findMany({
      where: { configUid: { in: configUids } },
      orderBy: { version: "desc" },
      select: { id: true, configUid: true, version: true, status: true, drainUntil: true },
    });
    const latest = new Map<string, (typeof rows)[number]>();
    for (const row of rows) if (row.configUid && !latest.has(row.configUid)) latest.set(row.configUid, row);
    return this.blocks([...latest].map(([configUid, row]) => ({ configUid, row, lanes: [throttledLane(row.id)] })));
  }

  /** The runtime block of each capping config that has a runtime, its lanes' (one per service) summed (CONTRACT §12). */
  async forCappingConfigs(configUids: string[]): Promise<Map<string, RuntimeStatus>> {
    if (configUids.length === 0) return new Map();
    const rows = await this.deps.db.cappingRuntime.findMany({
      where: { configUid: { in: configUids } },
      select: { id: true, configUid: true, version: true, status: true, drainUntil: true, services: true },
    });
    return this.blocks(
      rows.map((row) => ({ configUid: row.configUid!, row, lanes: cappedLanesOf(row.id, row.services as CappingRuntimeValues["services"]) })),
    );
  }

  private async blocks(
    runtimes: { configUid: string; row: { version: number; status: RuntimeStatus["status"]; drainUntil: Date | null }; lanes: Lane[] }[],
  ): Promise<Map<string, RuntimeStatus>> {
    const blocks = new Map<string, RuntimeStatus>();
    let readings: LaneBlock[];
    try {
      const { redis, keys } = this.deps;
      readings = await withDeadline(readLaneBlocks(redis, keys, runtimes.flatMap(({ lanes }) => lanes)), REDIS_READ_DEADLINE_MS);
    } catch (error) {
      this.deps.logger.warn({ err: error }, "runtime status left out: Redis could not be read");
      return blocks;
    }
    let at = 0;
    for (const { configUid, row, lanes } of runtimes) {
      const own = readings.slice(at, (at += lanes.length));
      blocks.set(configUid, {
        version: row.version,
        status: row.status,
        ...(row.drainUntil ? { drainUntil: row.drainUntil.toISOString() } : {}),
        queued: sum(own.map((lane) => lane.queued)),
        oldestQueuedAgeMs: Math.max(0, ...own.map((lane) => lane.oldestQueuedAgeMs)),
        dispatchedLastMinute: sum(own.map((lane) => lane.dispatchedLastMinute)),
        expiredTotal: sum(own.map((lane) => lane.expired)),
      });
    }
    return blocks;
  }

  /** The runtime block of a throttling config whose latest runtime version the caller has read already. */
  async forRuntimeVersion(
    configUid: string,
    row: { id: string; version: number; status: RuntimeStatus["status"]; drainUntil: Date | null },
  ): Promise<RuntimeStatus | undefined> {
    return (await this.blocks([{ configUid, row, lanes: [throttledLane(row.id)] }])).get(configUid);
  }

  /**
   * Every lane of every org with its snapshot: the unthrottled lanes that may hold calls (by org), then the runtime
   * versions, then the capping runtimes' lanes. Rejects if Postgres or Redis cannot be read.
   */
  async allLanes(): Promise<LaneReading[]> {
    const { db, redis, keys } = this.deps;
    const [unthrottled, versions, capping, inFlight] = await Promise.all([
      withDeadline(this.deps.unthrottled.live(), REDIS_READ_DEADLINE_MS),
      db.runtimeVersion.findMany({ select: { id: true, orgId: true, version: true }, orderBy: [{ orgId: "asc" }, { version: "asc" }] }),
      db.cappingRuntime.findMany({
        select: { id: true, orgId: true, version: true, configUid: true, services: true },
        orderBy: [{ orgId: "asc" }, { createdAt: "asc" }],
      }),
      withDeadline(readInFlight(redis, keys), REDIS_READ_DEADLINE_MS),
    ]);
    const readings: Omit<LaneReading, "snapshot" | "inFlight">[] = [
      ...unthrottled.map(({ lane }) => ({ lane })).sort((a, b) => a.lane.orgId.localeCompare(b.lane.orgId)),
      ...versions.map(({ id, orgId, version }) => ({ lane: throttledLane(id), version: { orgId, version } })),
      ...capping.flatMap(({ id, orgId, version, configUid, services }) =>
        cappedLanesOf(id, services as CappingRuntimeValues["services"]).map((lane) => ({
          lane,
          version: { orgId, version, service: lane.service, ...(configUid ? { cappingConfigUid: configUid } : {}) },
        })),
      ),
    ];
    const snapshots = await this.snapshots(readings.map(({ lane }) => lane));
    return readings.map((reading, i) => ({ ...reading, snapshot: snapshots[i]!, inFlight: inFlight.get(laneId(reading.lane)) ?? 0 }));
  }

  private snapshots(lanes: Lane[]): Promise<LaneSnapshot[]> {
    return withDeadline(Promise.all(lanes.map((lane) => this.snapshot(lane))), REDIS_READ_DEADLINE_MS);
  }

  /** A lane's queue depth and oldest queued age, without its counters; rejects if Redis does not answer within 1 s. */
  queue(lane: Lane): Promise<LaneQueue> {
    return withDeadline(this.queueOf(lane), REDIS_READ_DEADLINE_MS);
  }

  private async snapshot(lane: Lane): Promise<LaneSnapshot> {
    const [queue, stats] = await Promise.all([this.queueOf(lane), this.deps.stats.read(lane)]);
    return { ...queue, stats };
  }

  private async queueOf(lane: Lane): Promise<LaneQueue> {
    const [{ queued, oldestQueuedAgeMs }] = (await readLaneBlocks(this.deps.redis, this.deps.keys, [lane])) as [LaneBlock];
    return { queued, oldestQueuedAgeMs };
  }
}

const sum = (values: number[]): number => values.reduce((total, value) => total + value, 0);

/** The lanes of a capping runtime: one per service it has limits for. */
const cappedLanesOf = (id: string, services: CappingRuntimeValues["services"]) =>
  CAPPING_SERVICES.filter((service) => services[service]).map((service) => cappedLane(id, service));
