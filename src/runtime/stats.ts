import type { Redis } from "ioredis";
import { laneId, type Lane, type RuntimeKeys } from "./keys.js";

/** Upper bounds (ms) of the send-latency histogram buckets. */
export const LATENCY_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000] as const;
const SECOND_KEY_TTL_S = 120;

export interface LaneStats {
  sent: number;
  retried: number;
  succeeded: number;
  failed: number;
  expired: number;
  dropped: number;
  dispatchedLastMinute: number;
  /** Cumulative counts per bucket bound (`le`), plus `+Inf`, and the latency sum in ms. */
  latency: { buckets: Record<string, number>; count: number; sumMs: number };
}

/**
 * Per-lane counters in Redis, so that every worker process adds to the same numbers and any API process can
 * report them (runtime block, /metrics).
 */
export class RuntimeStats {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RuntimeKeys,
  ) {}

  async sent(lane: Lane, retry: boolean, latencyMs: number): Promise<void> {
    const id = laneId(lane);
    const stats = this.keys.stats(id);
    const second = this.keys.sentInSecond(id, Math.floor(Date.now() / 1000));
    const bucket = LATENCY_BUCKETS_MS.find((bound) => latencyMs <= bound) ?? "+Inf";
    const pipeline = this.redis.pipeline().hincrby(stats, "sent", 1).incr(second).expire(second, SECOND_KEY_TTL_S);
    if (retry) pipeline.hincrby(stats, "retried", 1);
    pipeline.hincrby(stats, `latency:${bucket}`, 1).hincrbyfloat(stats, "latency:sum", latencyMs);
    await pipeline.exec();
  }

  async read(id: string): Promise<LaneStats> {
    const nowSecond = Math.floor(Date.now() / 1000);
    const seconds = Array.from({ length: 60 }, (_, i) => this.keys.sentInSecond(id, nowSecond - i));
    const [hash, perSecond] = await Promise.all([this.redis.hgetall(this.keys.stats(id)), this.redis.mget(seconds)]);
    const n = (field: string) => Number(hash[field] ?? 0);
    let cumulative = 0;
    const buckets: Record<string, number> = {};
    for (const bound of [...LATENCY_BUCKETS_MS, "+Inf"] as const) {
      cumulative += n(`latency:${bound}`);
      buckets[String(bound)] = cumulative;
    }
    return {
      sent: n("sent"),
      retried: n("retried"),
      succeeded: n("succeeded"),
      failed: n("failed"),
      expired: n("expired"),
      dropped: n("dropped"),
      dispatchedLastMinute: perSecond.reduce((sum, value) => sum + Number(value ?? 0), 0),
      latency: { buckets, count: cumulative, sumMs: n("latency:sum") },
    };
  }
}
