import type { RedisClient } from "../shared/redis.js";
import { RedisScript } from "../shared/redis-script.js";
import type { Lane, RuntimeKeys } from "./keys.js";

/** What a config's `runtime` block says of one of its lanes (CONTRACT §3). */
export interface LaneBlock {
  queued: number;
  oldestQueuedAgeMs: number;
  dispatchedLastMinute: number;
  expired: number;
}

/*
 * A lane's block in one script (every key of a lane shares its hash tag): its calls waiting, delayed, prioritized or
 * held by a worker; the ids at the tails of `wait` and `active` (the oldest of each: BullMQ LPUSHes new jobs and
 * moves them to the head of `active`); its expired count; its sends in the last 60 seconds.
 * KEYS: wait, delayed, prioritized, active, stats, then the 60 seconds' send counters.
 */
const LANE_BLOCK = new RedisScript(`
local queued = redis.call('LLEN', KEYS[1]) + redis.call('ZCARD', KEYS[2]) + redis.call('ZCARD', KEYS[3]) + redis.call('LLEN', KEYS[4])
local sent = 0
for i = 6, #KEYS do sent = sent + tonumber(redis.call('GET', KEYS[i]) or '0') end
return {queued, redis.call('LINDEX', KEYS[1], -1) or '', redis.call('LINDEX', KEYS[4], -1) or '', redis.call('HGET', KEYS[5], 'expired') or '0', sent}
`);

/**
 * The blocks of `lanes`: one script per lane, then (for a lane holding calls) the acceptance time of its oldest,
 * reading only the job's `timestamp` (a call body can be 1 MB). Lanes are read concurrently over the one connection.
 */
export function readLaneBlocks(redis: RedisClient, keys: RuntimeKeys, lanes: readonly Lane[]): Promise<LaneBlock[]> {
  const nowSecond = Math.floor(Date.now() / 1000);
  return Promise.all(
    lanes.map(async (lane) => {
      const seconds = Array.from({ length: 60 }, (_, i) => keys.sentInSecond(lane, nowSecond - i));
      const queueKeys = ["wait", "delayed", "prioritized", "active"].map((type) => keys.queueKey(lane, type));
      const [queued, oldestWaiting, oldestActive, expired, sent] = (await LANE_BLOCK.run(redis, [...queueKeys, keys.stats(lane), ...seconds], [])) as [
        number,
        string,
        string,
        string,
        number,
      ];
      const ids = [oldestWaiting, oldestActive].filter((id) => id !== "");
      const stamps = await Promise.all(ids.map((id) => redis.hget(keys.queueKey(lane, id), "timestamp")));
      const accepted = stamps.filter((stamp) => stamp !== null).map(Number);
      return {
        queued,
        oldestQueuedAgeMs: accepted.length ? Math.max(0, Date.now() - Math.min(...accepted)) : 0,
        dispatchedLastMinute: sent,
        expired: Number(expired),
      };
    }),
  );
}
