import type { RedisClient } from "../shared/redis.js";

/** A worker counts as alive if it has beaten within this window. */
export const HEARTBEAT_TTL_MS = 15_000;

/** Sorted set of worker id → last heartbeat (ms). Workers write it; canDeploy reads it. */
export const heartbeatKey = (prefix: string): string => `${prefix}:workers:heartbeats`;

export async function countAliveWorkers(redis: RedisClient, prefix: string, now = Date.now()): Promise<number> {
  return redis.zcount(heartbeatKey(prefix), now - HEARTBEAT_TTL_MS, "+inf");
}
