import type { RedisClient } from "../shared/redis.js";
import { laneId, type Lane, type RuntimeKeys } from "./keys.js";

/** How often a worker process publishes its sends in progress. */
export const IN_FLIGHT_PUBLISH_MS = 1000;
/** A process's entry older than this is not counted: the process stopped publishing (it died or hangs). */
const FRESH_MS = 3 * IN_FLIGHT_PUBLISH_MS;
/** An entry this old is removed by the next reader. */
const FORGET_MS = 60_000;

interface Published {
  at: number;
  lanes: Record<string, number>;
}

/**
 * Sends in progress per lane (for the console). Each worker process counts its own in memory, around each send,
 * and publishes the counts every second to one hash; readers add up the fresh entries. Nothing is written per call,
 * and a killed process's sends stop counting within FRESH_MS.
 */
export class InFlightSends {
  private readonly counts = new Map<string, number>();
  private published = false;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RuntimeKeys,
  ) {}

  async during<T>(lane: Lane, send: () => Promise<T>): Promise<T> {
    const id = laneId(lane);
    this.counts.set(id, (this.counts.get(id) ?? 0) + 1);
    try {
      return await send();
    } finally {
      const left = (this.counts.get(id) ?? 1) - 1;
      if (left > 0) this.counts.set(id, left);
      else this.counts.delete(id);
    }
  }

  /** Writes this process's counts under its worker id. */
  async publish(workerId: string): Promise<void> {
    if (this.counts.size === 0) return this.withdraw(workerId);
    const entry: Published = { at: Date.now(), lanes: Object.fromEntries(this.counts) };
    await this.redis.hset(this.keys.inFlight(), workerId, JSON.stringify(entry));
    this.published = true;
  }

  /** Removes this process's entry (nothing in flight, or stopping). */
  async withdraw(workerId: string): Promise<void> {
    if (!this.published) return;
    await this.redis.hdel(this.keys.inFlight(), workerId);
    this.published = false;
  }
}

/** Sends in progress per lane id, over every worker process that published within the last few seconds. */
export async function readInFlight(redis: RedisClient, keys: RuntimeKeys, nowMs = Date.now()): Promise<Map<string, number>> {
  const totals = new Map<string, number>();
  const forgotten: string[] = [];
  for (const [processId, value] of Object.entries(await redis.hgetall(keys.inFlight()))) {
    const entry = JSON.parse(value) as Published;
    if (nowMs - entry.at > FORGET_MS) forgotten.push(processId);
    if (nowMs - entry.at > FRESH_MS) continue;
    for (const [lane, n] of Object.entries(entry.lanes)) totals.set(lane, (totals.get(lane) ?? 0) + n);
  }
  if (forgotten.length) await redis.hdel(keys.inFlight(), ...forgotten);
  return totals;
}
