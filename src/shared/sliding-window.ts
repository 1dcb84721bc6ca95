import type { RedisClient } from "./redis.js";
import { RedisScript } from "./redis-script.js";

/**
 * One limit a send must pass, kept in one Redis slot: at most `max` sends in any sliding `windowMs`, and, with
 * `maxConnections`, at most that many sends in flight at once.
 *
 * The window is exact (a log of send times, ZSET) up to EXACT_MAX sends. Past that a log would outgrow the 64 KB a
 * capping config may use (CONTRACT §12), so the window counts sends per bucket of `bucketMs` (a HASH of at most
 * windowMs / bucketMs + 2 counters) and counts the oldest bucket it overlaps whole: never over the limit, and under
 * a backlog at least max per (windowMs + bucketMs).
 */
export interface WindowLimit {
  readonly window: string;
  readonly max: number;
  readonly windowMs: number;
  /** 0: an exact log. */
  readonly bucketMs: number;
  /** Absent: no cap on connections. */
  readonly leases?: { readonly key: string; readonly maxConnections: number };
}

/** Windows of at most this many sends are kept exactly (a log entry is about 60 bytes: 256 fit in 16 KB). */
export const EXACT_MAX = 256;

/** The bucket size of a window of `max` sends over `windowMs`, split into `buckets` buckets past EXACT_MAX. */
export function bucketMsFor(max: number, windowMs: number, buckets: number): number {
  return max <= EXACT_MAX ? 0 : Math.max(1, Math.ceil(windowMs / buckets));
}

/*
 * Takes one place in a window for send ARGV[4], or says how long until one frees.
 * Exact (ARGV[3] '0'): a ZSET of send id → time. Buckets: a HASH of bucket index → sends, with `t` (their total)
 * and `o` (the oldest index that may still hold sends); every bucket that overlaps the window counts whole.
 * Returns {0, '<bucket index or 0>', '<now>', '<places left>', '<ms until one frees, 0 while places are left>'}
 * when taken, {1, '<ms to wait>'} when full.
 * KEYS: window. ARGV: max, windowMs, bucketMs, member.
 */
const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local max, window, bucket = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if bucket == 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
  if redis.call('ZCARD', KEYS[1]) >= max then
    local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    return {1, tostring(math.max(1, tonumber(oldest[2]) + window - now))}
  end
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window) + 1000)
  local left = max - redis.call('ZCARD', KEYS[1])
  local frees = 0
  if left <= 0 then
    local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    frees = math.max(1, tonumber(oldest[2]) + window - now)
  end
  return {0, '0', tostring(now), left, tostring(frees)}
end
local current = math.floor(now / bucket)
local first = math.floor((now - window) / bucket)
local total = tonumber(redis.call('HGET', KEYS[1], 't') or '0')
local oldest = tonumber(redis.call('HGET', KEYS[1], 'o') or tostring(current))
if first > oldest + math.ceil(window / bucket) + 1 then
  redis.call('DEL', KEYS[1])
  total, oldest = 0, current
end
while oldest < first do
  local count = redis.call('HGET', KEYS[1], tostring(oldest))
  if count then
    total = total - tonumber(count)
    redis.call('HDEL', KEYS[1], tostring(oldest))
  end
  oldest = oldest + 1
end
local function untilOldestLeaves()
  local held = oldest
  while held < current and not redis.call('HGET', KEYS[1], tostring(held)) do held = held + 1 end
  return math.max(1, (held + 1) * bucket + window - now)
end
if total >= max then
  redis.call('HSET', KEYS[1], 't', total, 'o', oldest)
  return {1, tostring(untilOldestLeaves())}
end
redis.call('HINCRBY', KEYS[1], tostring(current), 1)
redis.call('HSET', KEYS[1], 't', total + 1, 'o', oldest)
redis.call('PEXPIRE', KEYS[1], math.ceil(window + bucket) + 1000)
local left = max - total - 1
return {0, tostring(current), tostring(now), left, tostring(left > 0 and 0 or untilOldestLeaves())}
`;

/*
 * Gives back a place taken by TAKE for a send that did not go. KEYS: window. ARGV: bucketMs, member, bucket index.
 * A bucket already out of the window is left alone.
 */
const UNTAKE = `
if ARGV[1] == '0' then return redis.call('ZREM', KEYS[1], ARGV[2]) end
local count = tonumber(redis.call('HGET', KEYS[1], ARGV[3]) or '0')
if count <= 0 then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[3], -1)
redis.call('HINCRBY', KEYS[1], 't', -1)
return 1
`;

/*
 * Leases one connection to send ARGV[3] until ARGV[2] ms from now, unless ARGV[1] are in use (a lease it holds
 * already is renewed); a crashed worker's leases lapse on their own. Returns 1 when leased, 0 when full.
 * KEYS: leases. ARGV: max, leaseMs, member.
 */
const LEASE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[3]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
local untilMs = now + tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], untilMs, ARGV[3])
local latest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(latest[2]) - now) + 1000)
return 1
`;

/** Moves a logged send later (it left late). KEYS: window. ARGV: member, lateMs. Exact windows only. */
const RESTAMP = `
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score then redis.call('ZADD', KEYS[1], 'XX', tonumber(score) + tonumber(ARGV[2]), ARGV[1]) end
return 1
`;

const take = new RedisScript(TAKE);
const untake = new RedisScript(UNTAKE);
const lease = new RedisScript(LEASE);
const restamp = new RedisScript(RESTAMP);

/**
 * A place taken in a window: when (Redis' clock, ms), what gives it back, how many places are left and in how many
 * ms one more frees (0 while places are left).
 */
export type Taken = { bucket: string; atMs: number; left: number; freesInMs: number };

/** The window and connection operations on the limits' keys, each one script in the limit's slot. */
export class SlidingWindows {
  constructor(private readonly redis: RedisClient) {}

  /** Takes a place for `member`, or says how long until one may free. */
  async take(limit: WindowLimit, member: string): Promise<{ taken: Taken } | { waitMs: number }> {
    const [code, value, at, left, frees] = (await take.run(this.redis, [limit.window], [limit.max, limit.windowMs, limit.bucketMs, member])) as [
      number,
      string,
      string?,
      number?,
      string?,
    ];
    return code === 0
      ? { taken: { bucket: value, atMs: Number(at), left: left ?? 0, freesInMs: Number(frees) } }
      : { waitMs: Number(value) };
  }

  async untake(limit: WindowLimit, member: string, taken: Taken): Promise<void> {
    await untake.run(this.redis, [limit.window], [limit.bucketMs, member, taken.bucket]);
  }

  /** A send that left `lateMs` after its place was taken counts from when it really left (exact windows). */
  async restamp(limit: WindowLimit, member: string, lateMs: number): Promise<void> {
    if (limit.bucketMs === 0) await restamp.run(this.redis, [limit.window], [member, lateMs]);
  }

  /**
   * Leases a connection for `member` for `leaseMs` (or renews its lease); false when all are in use. True when the
   * limit has no cap.
   */
  async lease(limit: WindowLimit, member: string, leaseMs: number): Promise<boolean> {
    if (!limit.leases) return true;
    return (await lease.run(this.redis, [limit.leases.key], [limit.leases.maxConnections, Math.ceil(leaseMs), member])) === 1;
  }

  async unlease(limit: WindowLimit, member: string): Promise<void> {
    if (limit.leases) await this.redis.zrem(limit.leases.key, member);
  }
}
