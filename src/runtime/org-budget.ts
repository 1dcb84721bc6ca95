import type { RedisClient } from "../shared/redis.js";
import type { RuntimeKeys } from "./keys.js";

// KEYS: org live calls, org queued bytes, org call index. ARGV: max calls, bytes in all, max bytes, index cutoff
// score, then (call id, bytes, index score) per call. Reserves every call or none: -1 when the calls would exceed their
// bound, -2 the bytes. Index scores are computed by the caller: Lua would print them with 14 digits.
const RESERVE = `
local n = (#ARGV - 4) / 3
if redis.call('ZCARD', KEYS[1]) + n > tonumber(ARGV[1]) then return -1 end
if tonumber(redis.call('GET', KEYS[2]) or '0') + tonumber(ARGV[2]) > tonumber(ARGV[3]) then return -2 end
local live, index = {}, {}
for i = 5, #ARGV, 3 do
  live[#live + 1] = ARGV[i + 1]
  live[#live + 1] = ARGV[i]
  index[#index + 1] = ARGV[i + 2]
  index[#index + 1] = ARGV[i]
end
redis.call('ZADD', KEYS[1], unpack(live))
redis.call('INCRBY', KEYS[2], ARGV[2])
redis.call('ZADD', KEYS[3], unpack(index))
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[4])
return 1
`;

// KEYS: org live calls, org queued bytes. ARGV: call ids. Frees each call still live, once: releasing a call twice
// (a worker and the reconciler) frees it once. Returns the bytes freed.
const RELEASE = `
local freed = 0
for _, id in ipairs(ARGV) do
  local bytes = redis.call('ZSCORE', KEYS[1], id)
  if bytes then
    redis.call('ZREM', KEYS[1], id)
    freed = freed + tonumber(bytes)
  end
end
if freed > 0 and redis.call('DECRBY', KEYS[2], freed) < 0 then redis.call('SET', KEYS[2], 0) end
return freed
`;

// KEYS: live orgs. ARGV: org, the score it was seen with. Forgets the org unless a call joined since.
const FORGET_ORG = `
if redis.call('ZSCORE', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0
`;

export type Reservation = "reserved" | "too-many-calls" | "too-many-bytes";

/** Calls accepted in one submission share an acceptance millisecond: their index scores keep them in order. */
const ORDER_PER_MS = 1000;

/**
 * An org's calls in its own slot (CONTRACT §10, §11): the set of its non-terminal calls with their bytes (its queued
 * count is the set's size, so a call is freed at most once, and the reconciler can compare it with the calls'
 * records), the sum of those bytes, and the index of all its calls for listing. Kept apart from the lane scripts,
 * whose keys live in the lane's slot (CONTRACT §13).
 */
export class OrgBudget {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RuntimeKeys,
    /** How long a call can be listed: its retention, then its record's life. */
    private readonly listedMs: number,
  ) {
    redis.defineCommand("sluiceReserveBudget", { numberOfKeys: 3, lua: RESERVE });
    redis.defineCommand("sluiceReleaseBudget", { numberOfKeys: 2, lua: RELEASE });
    redis.defineCommand("sluiceForgetOrg", { numberOfKeys: 1, lua: FORGET_ORG });
  }

  /** Reserves room for the calls and indexes them; the org is named a live org first, so no reservation goes unseen. */
  async reserve(orgId: string, calls: { callId: string; bytes: number }[], limits: { maxCalls: number; maxBytes: number }): Promise<Reservation> {
    const now = Date.now();
    await this.redis.zadd(this.keys.liveOrgs(), now, orgId);
    const bytes = calls.reduce((sum, call) => sum + call.bytes, 0);
    const perCall = calls.flatMap(({ callId, bytes: callBytes }, i) => [callId, callBytes, indexScore(now, i)]);
    const reply = await (this.redis as RedisWithBudget).sluiceReserveBudget(
      this.keys.orgLive(orgId),
      this.keys.orgQueuedBytes(orgId),
      this.keys.orgCalls(orgId),
      limits.maxCalls,
      bytes,
      limits.maxBytes,
      indexScore(now - this.listedMs, 0),
      ...perCall,
    );
    return reply === -1 ? "too-many-calls" : reply === -2 ? "too-many-bytes" : "reserved";
  }

  /** Frees the calls that are still live; returns the bytes freed. */
  async release(orgId: string, callIds: string[]): Promise<number> {
    if (!callIds.length) return 0;
    return (this.redis as RedisWithBudget).sluiceReleaseBudget(this.keys.orgLive(orgId), this.keys.orgQueuedBytes(orgId), ...callIds);
  }

  /** The org's queued (non-terminal) calls and their bytes. */
  async queued(orgId: string): Promise<{ calls: number; bytes: number }> {
    const [calls, bytes] = await Promise.all([this.redis.zcard(this.keys.orgLive(orgId)), this.redis.get(this.keys.orgQueuedBytes(orgId))]);
    return { calls, bytes: Number(bytes ?? 0) };
  }

  /** A page of the org's live calls, from `start` (by id order). */
  async liveCalls(orgId: string, start: number, count: number): Promise<string[]> {
    return this.redis.zrange(this.keys.orgLive(orgId), String(start), String(start + count - 1));
  }

  /** Orgs that may have non-terminal calls, with when they last had calls accepted (ms). */
  async liveOrgs(): Promise<{ orgId: string; seenAt: string }[]> {
    const flat = await this.redis.zrange(this.keys.liveOrgs(), "0", "-1", "WITHSCORES");
    const orgs: { orgId: string; seenAt: string }[] = [];
    for (let i = 0; i < flat.length; i += 2) orgs.push({ orgId: flat[i]!, seenAt: flat[i + 1]! });
    return orgs;
  }

  /** Forgets an org found without live calls, unless calls were accepted for it since `seenAt`. */
  async forgetOrg(orgId: string, seenAt: string): Promise<void> {
    await (this.redis as RedisWithBudget).sluiceForgetOrg(this.keys.liveOrgs(), orgId, seenAt);
  }

  /**
   * A page of the org's calls, newest first, from just after `after` (the last one of the previous page), with
   * their index scores.
   */
  async listed(orgId: string, count: number, after?: { callId: string; score: string }): Promise<{ callId: string; score: string }[]> {
    const key = this.keys.orgCalls(orgId);
    const page: { callId: string; score: string }[] = [];
    // Equal scores are rare (two submissions in the same millisecond): fetch a few extra to step over them.
    const fetch = count + 16;
    for (let offset = 0; ; offset += fetch) {
      const flat = await this.redis.zrevrangebyscore(key, after?.score ?? "+inf", "-inf", "WITHSCORES", "LIMIT", offset, fetch);
      for (let i = 0; i < flat.length && page.length < count; i += 2) {
        const callId = flat[i]!;
        const score = flat[i + 1]!;
        // Among equal scores, ZREVRANGEBYSCORE goes in reverse lexical order.
        if (after && score === after.score && callId >= after.callId) continue;
        page.push({ callId, score });
      }
      if (page.length >= count || flat.length < fetch * 2) return page;
    }
  }
}

const indexScore = (ms: number, order: number): string => String(ms * ORDER_PER_MS + order);

type RedisWithBudget = RedisClient & {
  sluiceReserveBudget(...args: (string | number)[]): Promise<number>;
  sluiceReleaseBudget(...args: (string | number)[]): Promise<number>;
  sluiceForgetOrg(...args: (string | number)[]): Promise<number>;
};
