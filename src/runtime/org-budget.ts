import type { RedisClient } from "../shared/redis.js";
import type { RuntimeKeys } from "./keys.js";

// KEYS: org live calls, org queued bytes, org call index, org reservations, org lanes. ARGV: max calls, bytes in all,
// max bytes, index cutoff score, now, how many lanes, the lanes, then (call id, bytes, index score) per call.
// Reserves every call or none: -1 when the calls would exceed their bound, -2 the bytes. The calls are also noted as
// being reserved (until their jobs are written) and their lanes as the org's. Index scores are computed by the caller:
// Lua would print them with 14 digits.
const RESERVE = `
local lanes = tonumber(ARGV[6])
local first = 7 + lanes
local n = (#ARGV - first + 1) / 3
if redis.call('ZCARD', KEYS[1]) + n > tonumber(ARGV[1]) then return -1 end
if tonumber(redis.call('GET', KEYS[2]) or '0') + tonumber(ARGV[2]) > tonumber(ARGV[3]) then return -2 end
local live, index, reserving = {}, {}, {}
for i = first, #ARGV, 3 do
  live[#live + 1] = ARGV[i + 1]
  live[#live + 1] = ARGV[i]
  index[#index + 1] = ARGV[i + 2]
  index[#index + 1] = ARGV[i]
  reserving[#reserving + 1] = ARGV[5]
  reserving[#reserving + 1] = ARGV[i]
end
redis.call('ZADD', KEYS[1], unpack(live))
redis.call('INCRBY', KEYS[2], ARGV[2])
redis.call('ZADD', KEYS[3], unpack(index))
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[4])
redis.call('ZADD', KEYS[4], unpack(reserving))
for i = 7, first - 1 do redis.call('ZADD', KEYS[5], ARGV[5], ARGV[i]) end
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
    redis.defineCommand("sluiceReserveBudget", { numberOfKeys: 5, lua: RESERVE });
    redis.defineCommand("sluiceReleaseBudget", { numberOfKeys: 2, lua: RELEASE });
    redis.defineCommand("sluiceForgetOrg", { numberOfKeys: 1, lua: FORGET_ORG });
  }

  /**
   * Reserves room for the calls (of `lanes`) and indexes them; the org is named a live org first, so no reservation
   * goes unseen. Once their jobs are written (or rolled back), `settled` ends the reservation.
   */
  async reserve(
    orgId: string,
    calls: { callId: string; bytes: number }[],
    lanes: string[],
    limits: { maxCalls: number; maxBytes: number },
  ): Promise<Reservation> {
    const now = Date.now();
    await this.redis.zadd(this.keys.liveOrgs(), now, orgId);
    const bytes = calls.reduce((sum, call) => sum + call.bytes, 0);
    const perCall = calls.flatMap(({ callId, bytes: callBytes }, i) => [callId, callBytes, indexScore(now, i)]);
    const reply = await (this.redis as RedisWithBudget).sluiceReserveBudget(
      this.keys.orgLive(orgId),
      this.keys.orgQueuedBytes(orgId),
      this.keys.orgCalls(orgId),
      this.keys.orgReserving(orgId),
      this.keys.orgLanes(orgId),
      limits.maxCalls,
      bytes,
      limits.maxBytes,
      indexScore(now - this.listedMs, 0),
      now,
      lanes.length,
      ...lanes,
      ...perCall,
    );
    return reply === -1 ? "too-many-calls" : reply === -2 ? "too-many-bytes" : "reserved";
  }

  /** The calls' jobs are written (or rolled back): their reservation is no longer the reconciler's business. */
  async settled(orgId: string, callIds: string[]): Promise<void> {
    if (callIds.length) await this.redis.zrem(this.keys.orgReserving(orgId), ...callIds);
  }

  /** Calls reserved before `beforeMs` and still not settled (their API may have died), at most `count`. */
  async unsettled(orgId: string, beforeMs: number, count: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.orgReserving(orgId), "-inf", beforeMs, "LIMIT", 0, count);
  }

  /** The lanes the org's calls joined, with when a call last did (ms). */
  async lanes(orgId: string): Promise<{ laneId: string; joinedAt: number }[]> {
    const flat = await this.redis.zrange(this.keys.orgLanes(orgId), "0", "-1", "WITHSCORES");
    const lanes: { laneId: string; joinedAt: number }[] = [];
    for (let i = 0; i < flat.length; i += 2) lanes.push({ laneId: flat[i]!, joinedAt: Number(flat[i + 1]) });
    return lanes;
  }

  async forgetLane(orgId: string, laneId: string): Promise<void> {
    await this.redis.zrem(this.keys.orgLanes(orgId), laneId);
  }

  /**
   * The org's calls accepted after the index position `after` and before `beforeMs`, oldest first, at most `count`,
   * with the position of the last one: the reconciler's way through the calls that may be left past their retention.
   */
  async acceptedBefore(orgId: string, beforeMs: number, count: number): Promise<{ callIds: string[]; last?: string }> {
    const after = (await this.redis.get(this.keys.orgExpiryChecked(orgId))) ?? "-inf";
    const from = after === "-inf" ? after : `(${after}`;
    const flat = await this.redis.zrangebyscore(this.keys.orgCalls(orgId), from, indexScore(beforeMs, 0), "WITHSCORES", "LIMIT", 0, count);
    const callIds = flat.filter((_, i) => i % 2 === 0);
    return { callIds, ...(flat.length ? { last: flat.at(-1)! } : {}) };
  }

  /** Records that the org's calls up to index position `score` were checked. */
  async checkedUpTo(orgId: string, score: string): Promise<void> {
    await this.redis.set(this.keys.orgExpiryChecked(orgId), score);
  }

  /** Which of these calls are still counted as live. */
  async stillLive(orgId: string, callIds: string[]): Promise<string[]> {
    if (!callIds.length) return [];
    const scores = await this.redis.zmscore(this.keys.orgLive(orgId), ...callIds);
    return callIds.filter((_, i) => scores[i] !== null);
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
