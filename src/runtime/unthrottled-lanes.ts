import type { RedisClient } from "../shared/redis.js";
import { unthrottledLane, type RuntimeKeys, type UnthrottledLane } from "./keys.js";

/** An org's unthrottled lane and when a call last joined it (ms since epoch, the API's clock). */
export interface UnthrottledLaneEntry {
  lane: UnthrottledLane;
  joinedAt: number;
}

/**
 * Which orgs have an unthrottled lane (CONTRACT §11: one queue per org, scheduled fairly by giving each its own
 * worker). The API touches an org's entry after queueing its unthrottled calls; workers, the sweeper, /metrics and
 * the board read the entries that may still hold calls: those touched within the retention.
 */
export class UnthrottledLanes {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RuntimeKeys,
    /** After this long without a new call, a lane can hold none (the sweeper has expired them). */
    private readonly liveMs: number,
  ) {}

  /** Records that calls just joined the org's lane; call it once they are in the queue. */
  async touch(orgId: string): Promise<void> {
    await this.redis.zadd(this.keys.unthrottledLanes(), Date.now(), orgId);
  }

  /** The lanes that may still hold calls. */
  live(): Promise<UnthrottledLaneEntry[]> {
    return this.joinedSince(Date.now() - this.liveMs);
  }

  /** The lanes a call joined since `sinceMs`: a cheap read of only the lanes that just became busy. */
  async joinedSince(sinceMs: number): Promise<UnthrottledLaneEntry[]> {
    const flat = await this.redis.zrangebyscore(this.keys.unthrottledLanes(), sinceMs, "+inf", "WITHSCORES");
    const entries: UnthrottledLaneEntry[] = [];
    for (let i = 0; i < flat.length; i += 2) entries.push({ lane: unthrottledLane(flat[i]!), joinedAt: Number(flat[i + 1]) });
    return entries;
  }

  /** Forgets the lanes that can no longer hold a call. */
  async prune(): Promise<void> {
    await this.redis.zremrangebyscore(this.keys.unthrottledLanes(), "-inf", Date.now() - this.liveMs);
  }
}
