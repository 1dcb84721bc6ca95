import type { RedisClient } from "../shared/redis.js";
import { RedisScript } from "../shared/redis-script.js";
import { joinCallId, splitCallId, type RuntimeKeys } from "./keys.js";

// KEYS: queued calls, queued bytes, reservations, lanes, lane aliases, this hour's call list. ARGV: max calls, bytes
// in all, max bytes, now, the list's expiry (ms), how many lanes, the lanes, then (call id, own id, lane position,
// bytes) per call. Reserves every call or none: -1 when the calls would exceed their bound, -2 the bytes. The calls
// are noted as reserved (until their jobs are written), their lanes as the org's, and each is listed by its lane's
// alias and its own id: a few bytes a call.
const RESERVE = `
local lanes = tonumber(ARGV[6])
local first = 7 + lanes
local n = (#ARGV - first + 1) / 4
if tonumber(redis.call('GET', KEYS[1]) or '0') + n > tonumber(ARGV[1]) then return -1 end
if tonumber(redis.call('GET', KEYS[2]) or '0') + tonumber(ARGV[2]) > tonumber(ARGV[3]) then return -2 end
redis.call('INCRBY', KEYS[1], n)
redis.call('INCRBY', KEYS[2], ARGV[2])
local aliases = {}
for i = 7, first - 1 do
  redis.call('ZADD', KEYS[4], ARGV[4], ARGV[i])
  local alias = redis.call('HGET', KEYS[5], 'l:' .. ARGV[i])
  if not alias then
    alias = tostring(redis.call('HINCRBY', KEYS[5], 'next', 1))
    redis.call('HSET', KEYS[5], 'l:' .. ARGV[i], alias, 'a:' .. alias, ARGV[i])
  end
  aliases[#aliases + 1] = alias
end
local reserving, listed = {}, {}
for i = first, #ARGV, 4 do
  reserving[#reserving + 1] = ARGV[i]
  reserving[#reserving + 1] = ARGV[4] .. ' ' .. ARGV[i + 3]
  listed[#listed + 1] = aliases[tonumber(ARGV[i + 2])] .. '.' .. ARGV[i + 1]
end
redis.call('HSET', KEYS[3], unpack(reserving))
redis.call('RPUSH', KEYS[6], unpack(listed))
redis.call('PEXPIRE', KEYS[6], ARGV[5])
return 1
`;

// KEYS: queued calls, queued bytes. ARGV: calls, bytes. Never below zero: a call freed twice after a crash (see
// Reconciler) costs the count nothing lasting.
const RELEASE = `
if redis.call('DECRBY', KEYS[1], ARGV[1]) < 0 then redis.call('SET', KEYS[1], 0) end
if redis.call('DECRBY', KEYS[2], ARGV[2]) < 0 then redis.call('SET', KEYS[2], 0) end
return 1
`;

// KEYS: reservations, queued calls, queued bytes. ARGV: call ids. Ends these calls' reservations and frees the room
// of each that was still reserved: whoever ends a reservation first frees it, once.
const RELEASE_RESERVED = `
local calls, bytes = 0, 0
for _, id in ipairs(ARGV) do
  local reserved = redis.call('HGET', KEYS[1], id)
  if reserved then
    redis.call('HDEL', KEYS[1], id)
    calls = calls + 1
    bytes = bytes + tonumber(string.match(reserved, ' (%d+)$'))
  end
end
if calls > 0 then
  if redis.call('DECRBY', KEYS[2], calls) < 0 then redis.call('SET', KEYS[2], 0) end
  if redis.call('DECRBY', KEYS[3], bytes) < 0 then redis.call('SET', KEYS[3], 0) end
end
return calls
`;

// KEYS: live orgs. ARGV: org, the score it was seen with. Forgets the org unless a call joined since.
const FORGET_ORG = `
if redis.call('ZSCORE', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0
`;

export type Reservation = "reserved" | "too-many-calls" | "too-many-bytes";

const HOUR_MS = 3600_000;
/**
 * How often one process renews an org's entry among the live orgs while it accepts the org's calls: far within the
 * 10 min after which the reconciler forgets an org without queued calls, and a round trip saved per submission.
 */
const LIVE_ORG_RENEW_MS = 60_000;
const hourOf = (ms: number) => Math.floor(ms / HOUR_MS);

/** Where a listing stopped: an hour's list and the position in it of the last call returned. */
export interface ListPosition {
  hour: number;
  index: number;
}

/**
 * An org's calls in its own slot (CONTRACT §6, §10, §11): two counters, its queued calls and their bytes, reserved
 * when calls are accepted and released as each ends; the calls reserved whose jobs may not be written yet; the
 * lanes its calls joined; and one list of its calls per hour of acceptance, for listing. Kept apart from the lane
 * scripts, whose keys live in the lane's slot (CONTRACT §13).
 */
export class OrgBudget {
  private readonly reserveScript = new RedisScript(RESERVE);
  private readonly releaseScript = new RedisScript(RELEASE);
  private readonly releaseReservedScript = new RedisScript(RELEASE_RESERVED);
  private readonly forgetOrgScript = new RedisScript(FORGET_ORG);
  /** When this process last renewed each org's live entry (ms). */
  private readonly renewedAt = new Map<string, number>();

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RuntimeKeys,
    /** How long a call can be listed: its retention, then its record's life. */
    private readonly listedMs: number,
  ) {}

  /**
   * Reserves room for the calls and lists them; the org is named a live org first (see LIVE_ORG_RENEW_MS), so no
   * reservation goes unseen. Once their jobs are written (or rolled back), `settled` or
   * `releaseReserved` ends the reservation.
   */
  async reserve(
    orgId: string,
    calls: { callId: string; bytes: number }[],
    limits: { maxCalls: number; maxBytes: number },
  ): Promise<Reservation> {
    const now = Date.now();
    if (now - (this.renewedAt.get(orgId) ?? 0) >= LIVE_ORG_RENEW_MS) {
      await this.redis.zadd(this.keys.liveOrgs(), now, orgId);
      this.renewedAt.set(orgId, now);
    }
    const lanes: string[] = [];
    const perCall = calls.flatMap(({ callId, bytes }) => {
      const [lane, own] = splitCallId(callId);
      if (!lanes.includes(lane)) lanes.push(lane);
      return [callId, own, lanes.indexOf(lane) + 1, bytes];
    });
    const hour = hourOf(now);
    const reply = await this.reserveScript.run(
      this.redis,
      [
        this.keys.orgQueued(orgId),
        this.keys.orgQueuedBytes(orgId),
        this.keys.orgReserving(orgId),
        this.keys.orgLanes(orgId),
        this.keys.orgLaneAliases(orgId),
        this.keys.orgCalls(orgId, hour),
      ],
      [limits.maxCalls, calls.reduce((sum, call) => sum + call.bytes, 0), limits.maxBytes, now, (hour + 1) * HOUR_MS + this.listedMs - now, lanes.length, ...lanes, ...perCall],
    );
    return reply === -1 ? "too-many-calls" : reply === -2 ? "too-many-bytes" : "reserved";
  }

  /** The calls' jobs are written: their reservation ends, their room stays taken until each ends. */
  async settled(orgId: string, callIds: string[]): Promise<void> {
    if (callIds.length) await this.redis.hdel(this.keys.orgReserving(orgId), ...callIds);
  }

  /** The calls will never be sent: their reservation ends and their room is freed, once. Returns how many were. */
  async releaseReserved(orgId: string, callIds: string[]): Promise<number> {
    if (!callIds.length) return 0;
    const keys = [this.keys.orgReserving(orgId), this.keys.orgQueued(orgId), this.keys.orgQueuedBytes(orgId)];
    return (await this.releaseReservedScript.run(this.redis, keys, callIds)) as number;
  }

  /** Frees the room of calls that ended. */
  async release(orgId: string, calls: number, bytes: number): Promise<void> {
    if (calls === 0 && bytes === 0) return;
    await this.releaseScript.run(this.redis, [this.keys.orgQueued(orgId), this.keys.orgQueuedBytes(orgId)], [calls, bytes]);
  }

  /** Calls reserved before `beforeMs` and still not settled (their API may have died). */
  async unsettled(orgId: string, beforeMs: number): Promise<string[]> {
    const reserved = await this.redis.hgetall(this.keys.orgReserving(orgId));
    return Object.entries(reserved)
      .filter(([, value]) => Number(value.split(" ")[0]) < beforeMs)
      .map(([callId]) => callId);
  }

  /** The org's queued (non-terminal) calls and their bytes. */
  async queued(orgId: string): Promise<{ calls: number; bytes: number }> {
    const [calls, bytes] = await Promise.all([this.redis.get(this.keys.orgQueued(orgId)), this.redis.get(this.keys.orgQueuedBytes(orgId))]);
    return { calls: Number(calls ?? 0), bytes: Number(bytes ?? 0) };
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

  /** Orgs that may have non-terminal calls, with when they last had calls accepted (ms). */
  async liveOrgs(): Promise<{ orgId: string; seenAt: string }[]> {
    const flat = await this.redis.zrange(this.keys.liveOrgs(), "0", "-1", "WITHSCORES");
    const orgs: { orgId: string; seenAt: string }[] = [];
    for (let i = 0; i < flat.length; i += 2) orgs.push({ orgId: flat[i]!, seenAt: flat[i + 1]! });
    return orgs;
  }

  /** Forgets an org found without queued calls, unless calls were accepted for it since `seenAt`. */
  async forgetOrg(orgId: string, seenAt: string): Promise<void> {
    await this.forgetOrgScript.run(this.redis, [this.keys.liveOrgs()], [orgId, seenAt]);
  }

  /**
   * Up to `count` of the org's calls, newest first, from just before `before` (the position of the last one of the
   * previous page), with each one's position.
   */
  async listed(orgId: string, count: number, before?: ListPosition): Promise<{ callId: string; at: ListPosition }[]> {
    const now = Date.now();
    const page: { callId: string; at: ListPosition }[] = [];
    const lanes = new LaneAliases(this.redis, this.keys.orgLaneAliases(orgId));
    for (let hour = before?.hour ?? hourOf(now); hour >= hourOf(now - this.listedMs) && page.length < count; hour--) {
      const key = this.keys.orgCalls(orgId, hour);
      let end = before && hour === before.hour ? before.index : await this.redis.llen(key);
      while (end > 0 && page.length < count) {
        const start = Math.max(0, end - (count - page.length));
        const callIds = await lanes.callIds(await this.redis.lrange(key, start, end - 1));
        for (let i = callIds.length - 1; i >= 0; i--) {
          const callId = callIds[i];
          if (callId) page.push({ callId, at: { hour, index: start + i } });
        }
        end = start;
      }
    }
    return page;
  }
}

/** An org's lane aliases, read as a listing meets them. */
class LaneAliases {
  private readonly lanes = new Map<string, string | null>();

  constructor(
    private readonly redis: RedisClient,
    private readonly key: string,
  ) {}

  /** The call id each `<alias>.<own id>` entry stands for, or undefined if its alias is unknown. */
  async callIds(entries: string[]): Promise<(string | undefined)[]> {
    const split = entries.map((entry) => entry.split(".") as [string, string]);
    const unknown = [...new Set(split.map(([alias]) => alias))].filter((alias) => !this.lanes.has(alias));
    if (unknown.length) {
      const lanes = await this.redis.hmget(this.key, ...unknown.map((alias) => `a:${alias}`));
      unknown.forEach((alias, i) => this.lanes.set(alias, lanes[i] ?? null));
    }
    return split.map(([alias, own]) => {
      const lane = this.lanes.get(alias);
      return lane ? joinCallId(lane, own) : undefined;
    });
  }
}
