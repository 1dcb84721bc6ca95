import type { Queue } from "bullmq";
import type { RedisClient } from "../shared/redis.js";
import type { Db } from "../db/prisma.js";
import { withDeadline } from "../shared/deadline.js";
import type { Logger } from "../shared/logger.js";
import type { RuntimeStatus } from "../throttling/throttling-config.schema.js";
import { throttledLane, type Lane } from "./keys.js";
import type { CallJob, RuntimeQueues } from "./queues.js";
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

/** A runtime version's identity, as /metrics labels it; absent for the unthrottled lane. */
export interface VersionIdentity {
  id: string;
  orgId: string;
  version: number;
}

export interface LaneReading {
  lane: Lane;
  version?: VersionIdentity;
  snapshot: LaneSnapshot;
}

const QUEUED_TYPES = ["wait", "delayed", "prioritized", "active"] as const;

/** A slow or unreachable Redis must not hold up a GET: past this, the runtime numbers are given up on. */
const REDIS_READ_DEADLINE_MS = 1000;

/**
 * Reads the runtime's state for the API: the `runtime` block of GET/list (CONTRACT §3) and the /metrics series.
 * Lanes are read concurrently over the one shared connection, so their commands go out back to back and a read
 * of any number of lanes costs about three Redis round trips.
 */
export class RuntimeStatusReader {
  constructor(
    private readonly deps: {
      db: Db;
      redis: RedisClient;
      queues: RuntimeQueues;
      stats: RuntimeStats;
      unthrottled: UnthrottledLanes;
      logger: Logger;
    },
  ) {
  }

  /**
   * The runtime block of each config that has a runtime version (its highest), by config uid; one query for all.
   * If Redis cannot be read the blocks are left out rather than filled with zeros: `queued: 0` would claim an
   * empty queue that may hold thousands of calls, while an absent block only says "unknown right now".
   */
  async forConfigs(configUids: string[]): Promise<Map<string, RuntimeStatus>> {
    const blocks = new Map<string, RuntimeStatus>();
    if (configUids.length === 0) return blocks;
    const rows = await this.deps.db.runtimeVersion.findMany({
      where: { configUid: { in: configUids } },
      orderBy: { version: "desc" },
      select: { id: true, configUid: true, version: true, status: true, drainUntil: true },
    });
    const latest = new Map<string, (typeof rows)[number]>();
    for (const row of rows) if (row.configUid && !latest.has(row.configUid)) latest.set(row.configUid, row);
    if (latest.size === 0) return blocks;

    const versions = [...latest.values()];
    let snapshots: LaneSnapshot[];
    try {
      snapshots = await this.snapshots(versions.map(({ id }) => throttledLane(id)));
    } catch (error) {
      this.deps.logger.warn({ err: error }, "runtime status left out: Redis could not be read");
      return blocks;
    }
    versions.forEach((row, i) => {
      const { queued, oldestQueuedAgeMs, stats } = snapshots[i]!;
      blocks.set(row.configUid!, {
        version: row.version,
        status: row.status,
        ...(row.drainUntil ? { drainUntil: row.drainUntil.toISOString() } : {}),
        queued,
        oldestQueuedAgeMs,
        dispatchedLastMinute: stats.dispatchedLastMinute,
        expiredTotal: stats.expired,
      });
    });
    return blocks;
  }

  async forConfig(configUid: string): Promise<RuntimeStatus | undefined> {
    return (await this.forConfigs([configUid])).get(configUid);
  }

  /**
   * Every lane of every org with its snapshot: the unthrottled lanes that may hold calls (by org), then the runtime
   * versions. Rejects if Postgres or Redis cannot be read.
   */
  async allLanes(): Promise<LaneReading[]> {
    const [unthrottled, versions] = await Promise.all([
      withDeadline(this.deps.unthrottled.live(), REDIS_READ_DEADLINE_MS),
      this.deps.db.runtimeVersion.findMany({
        select: { id: true, orgId: true, version: true },
        orderBy: [{ orgId: "asc" }, { version: "asc" }],
      }),
    ]);
    const readings: Omit<LaneReading, "snapshot">[] = [
      ...unthrottled.map(({ lane }) => ({ lane })).sort((a, b) => a.lane.orgId.localeCompare(b.lane.orgId)),
      ...versions.map((version) => ({ lane: throttledLane(version.id), version })),
    ];
    const snapshots = await this.snapshots(readings.map(({ lane }) => lane));
    return readings.map((reading, i) => ({ ...reading, snapshot: snapshots[i]! }));
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
    const queue = this.deps.queues.get(lane);
    const [counts, oldest] = await Promise.all([queue.getJobCounts(...QUEUED_TYPES), this.oldestWaiting(queue)]);
    return {
      queued: QUEUED_TYPES.reduce((sum, type) => sum + (counts[type] ?? 0), 0),
      oldestQueuedAgeMs: oldest ? Math.max(0, Date.now() - Number(oldest)) : 0,
    };
  }

  /**
   * When the lane's oldest waiting call was accepted (ms), or null. BullMQ LPUSHes new jobs, so the oldest is the
   * tail; reading only its `timestamp` avoids fetching the job's payload (a call body can be 1 MB).
   */
  private async oldestWaiting(queue: Queue<CallJob>): Promise<string | null> {
    const id = await this.deps.redis.lindex(queue.toKey("wait"), -1);
    return id === null ? null : this.deps.redis.hget(queue.toKey(id), "timestamp");
  }
}
