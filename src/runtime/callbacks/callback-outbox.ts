import type { RedisClient } from "../../shared/redis.js";
import { RedisScript } from "../../shared/redis-script.js";
import { joinCallId, splitCallId, type RuntimeKeys } from "../keys.js";

// KEYS: the lane's outbox. ARGV: now, lease end, how many. Takes the callbacks due now and puts them off until the
// lease ends: a process that dies while delivering one leaves it due again then (at least once).
const CLAIM = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
for _, id in ipairs(due) do redis.call('ZADD', KEYS[1], ARGV[2], id) end
return due
`;

// KEYS: the lane's outbox, the callback. ARGV: the call's own id, the answer's status or '', 'delivered' | 'failed' |
// the next attempt's time. Counts the attempt; a callback whose record expired meanwhile just leaves the outbox.
const SETTLE = `
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 0
end
redis.call('HINCRBY', KEYS[2], 'attempts', 1)
if ARGV[2] ~= '' then redis.call('HSET', KEYS[2], 'lastStatus', ARGV[2]) end
if ARGV[3] == 'delivered' or ARGV[3] == 'failed' then
  redis.call('HSET', KEYS[2], 'state', ARGV[3])
  redis.call('ZREM', KEYS[1], ARGV[1])
else
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
end
return 1
`;

export interface PendingCallback {
  callId: string;
  url: string;
  orgId: string;
  /** Attempts made so far. */
  attempts: number;
  /** When the call ended (ms): retries stop 24 h later. */
  since: number;
}

/** How an attempt ended: delivered, given up, or to be tried again at `retryAt` (ms). */
export type CallbackSettlement = { status?: number } & ({ outcome: "delivered" | "failed" } | { outcome: "retry"; retryAt: number });

/**
 * The durable side of callbacks (CONTRACT §10). A finished call with a callbackUrl joins its lane's outbox in the
 * same script that finishes it (CallStore's FINISH), so no terminal state goes without its callback. The outbox is a
 * sorted set in the lane's slot (its calls' ids by when their next attempt is due); a registry of the lanes that
 * had calls with a callback tells the deliverers where to look.
 */
export class CallbackOutbox {
  private readonly claimScript = new RedisScript(CLAIM);
  private readonly settleScript = new RedisScript(SETTLE);

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RuntimeKeys,
    /** After this long without a new call with a callback, a lane can have none left to deliver. */
    private readonly liveMs: number,
  ) {}

  /** Records that calls with a callback joined these lanes; called before they are queued. */
  async touch(laneIds: Iterable<string>): Promise<void> {
    const now = Date.now();
    const members = [...laneIds].flatMap((laneId) => [now, laneId]);
    if (members.length) await this.redis.zadd(this.keys.callbackLanes(), ...members);
  }

  /** The lanes that may have callbacks to deliver; forgets those that can have none. */
  async lanes(): Promise<string[]> {
    const since = Date.now() - this.liveMs;
    await this.redis.zremrangebyscore(this.keys.callbackLanes(), "-inf", `(${since}`);
    return this.redis.zrangebyscore(this.keys.callbackLanes(), since, "+inf");
  }

  /** Up to `max` of the lane's callbacks that are due, each leased to this process for `leaseMs`. */
  async claim(laneId: string, max: number, leaseMs: number): Promise<PendingCallback[]> {
    const now = Date.now();
    const own = (await this.claimScript.run(this.redis, [this.keys.callbackOutbox(laneId)], [now, now + leaseMs, max])) as string[];
    const claimed = await Promise.all(
      own.map(async (id): Promise<PendingCallback | undefined> => {
        const callId = joinCallId(laneId, id);
        const [url, orgId, attempts, since] = await this.redis.hmget(this.keys.callback(callId), "url", "org", "attempts", "since");
        if (!url || !orgId) {
          // Its record (and so what the callback would carry) expired.
          await this.settle(callId, { outcome: "failed" });
          return undefined;
        }
        return { callId, url, orgId, attempts: Number(attempts ?? 0), since: Number(since ?? now) };
      }),
    );
    return claimed.filter((callback) => callback !== undefined);
  }

  async settle(callId: string, settlement: CallbackSettlement): Promise<void> {
    const [laneId, own] = splitCallId(callId);
    const next = settlement.outcome === "retry" ? settlement.retryAt : settlement.outcome;
    await this.settleScript.run(this.redis, [this.keys.callbackOutbox(laneId), this.keys.callback(callId)], [own, settlement.status ?? "", next]);
  }
}
