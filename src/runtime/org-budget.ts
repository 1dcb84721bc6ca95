import type { RedisClient } from "../shared/redis.js";
import type { RuntimeKeys } from "./keys.js";

// KEYS: org queued calls, org queued bytes. ARGV: calls, max calls, bytes, max bytes. Reserves both or neither:
// -1 when the calls would exceed their bound, -2 the bytes.
const RESERVE = `
if tonumber(redis.call('GET', KEYS[1]) or '0') + tonumber(ARGV[1]) > tonumber(ARGV[2]) then return -1 end
if tonumber(redis.call('GET', KEYS[2]) or '0') + tonumber(ARGV[3]) > tonumber(ARGV[4]) then return -2 end
redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('INCRBY', KEYS[2], ARGV[3])
return 1
`;

// KEYS: org queued calls, org queued bytes. ARGV: calls, bytes. Never below zero.
const RELEASE = `
if redis.call('DECRBY', KEYS[1], ARGV[1]) < 0 then redis.call('SET', KEYS[1], 0) end
if redis.call('DECRBY', KEYS[2], ARGV[2]) < 0 then redis.call('SET', KEYS[2], 0) end
return 1
`;

export type Reservation = "reserved" | "too-many-calls" | "too-many-bytes";

/**
 * An org's queued calls and bytes (CONTRACT §6 capacity, §11 byte budget): two counters in the org's own slot,
 * reserved when calls are accepted and released as each ends. Kept apart from the lane scripts, whose keys live in
 * the lane's slot (CONTRACT §13).
 */
export class OrgBudget {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RuntimeKeys,
  ) {
    redis.defineCommand("sluiceReserveBudget", { numberOfKeys: 2, lua: RESERVE });
    redis.defineCommand("sluiceReleaseBudget", { numberOfKeys: 2, lua: RELEASE });
  }

  async reserve(orgId: string, calls: number, bytes: number, limits: { maxCalls: number; maxBytes: number }): Promise<Reservation> {
    const reply = await (this.redis as RedisWithBudget).sluiceReserveBudget(
      this.keys.orgQueued(orgId),
      this.keys.orgQueuedBytes(orgId),
      calls,
      limits.maxCalls,
      bytes,
      limits.maxBytes,
    );
    return reply === -1 ? "too-many-calls" : reply === -2 ? "too-many-bytes" : "reserved";
  }

  async release(orgId: string, calls: number, bytes: number): Promise<void> {
    await (this.redis as RedisWithBudget).sluiceReleaseBudget(this.keys.orgQueued(orgId), this.keys.orgQueuedBytes(orgId), calls, bytes);
  }
}

type RedisWithBudget = RedisClient & {
  sluiceReserveBudget(...args: (string | number)[]): Promise<number>;
  sluiceReleaseBudget(...args: (string | number)[]): Promise<number>;
};
