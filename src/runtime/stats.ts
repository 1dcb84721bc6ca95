import type { RedisClient } from "../shared/redis.js";
import type { Lane, RuntimeKeys } from "./keys.js";

/** Upper bounds (ms) of the send-latency histogram buckets. */
export const LATENCY_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000] as const;
/** How many seconds of a lane's sends per second the console charts. */
export const SENT_HISTORY_S = 300;
/** How long a lane's per-second send counter is kept: the console's history, and a margin. */
export const SECOND_COUNTER_TTL_S = SENT_HISTORY_S + 60;

/** The stats field counting a send that took `latencyMs`: its histogram bucket. */
export const latencyField = (latencyMs: number): string =>
  `latency:${LATENCY_BUCKETS_MS.find((bound) => latencyMs <= bound) ?? "+Inf"}`;

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
 * report them (runtime block, /metrics). Written by the scripts that begin and finish sends, read here.
 */
export class RuntimeStats {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RuntimeKeys,
  ) {}

  /**
   * Counts a send's latency for an attempt that did not end its call (the final one is counted by
   * CallStore.finish; the send itself was counted when it began, see Pacer.begin).
   */
  async latency(lane: Lane, latencyMs: number): Promise<void> {
    const stats = this.keys.stats(lane);
    await this.redis.multi().hincrby(stats, latencyField(latencyMs), 1).hincrbyfloat(stats, "latency:sum", latencyMs).exec();
  }

  /** Sends begun in each of the last `seconds` whole seconds before the current one, oldest first. */
  async sentPerSecond(lane: Lane, seconds: number, nowMs = Date.now()): Promise<number[]> {
    const current = Math.floor(nowMs / 1000);
    const keys = Array.from({ length: seconds }, (_, i) => this.keys.sentInSecond(lane, current - seconds + i));
    return (await this.redis.mget(keys)).map((value) => Number(value ?? 0));
  }

  async read(lane: Lane): Promise<LaneStats> {
    const nowSecond = Math.floor(Date.now() / 1000);
    const seconds = Array.from({ length: 60 }, (_, i) => this.keys.sentInSecond(lane, nowSecond - i));
    const [hash, perSecond] = await Promise.all([this.redis.hgetall(this.keys.stats(lane)), this.redis.mget(seconds)]);
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
