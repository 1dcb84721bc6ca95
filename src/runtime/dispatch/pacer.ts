import { setTimeout as sleep } from "node:timers/promises";
import type { RedisClient } from "../../shared/redis.js";
import { RedisScript } from "../../shared/redis-script.js";
import { TickBatcher } from "../../shared/tick-batcher.js";
import { laneId, type Lane, type LimitedLane, type RuntimeKeys } from "../keys.js";
import { JOB_FIELDS } from "../call-record.js";
import { SECOND_COUNTER_TTL_S } from "../stats.js";

/**
 * Spacing safety: slots are 1.5% wider than 1000/N ms, so that the few ms of jitter between taking a slot and the
 * call reaching the endpoint cannot push N+1 calls into one sliding second there. Mean rate: N / 1.015.
 */
export const SPACING_FACTOR = 1.015;
/**
 * During the first half second of a lane's busy period (its log's oldest send is younger than half a window),
 * sends are logged this much later than they happen: the first calls of a busy period travel a cold path (new
 * sockets, new processes, first-time code) and reach the endpoint late, bunching with the calls after them.
 * Costs one ~50 ms pause per busy period. (Until the benchmark showed a mean of 0.94 N, this applied to every
 * send: the oldest entry left after trimming the window is always younger than the window.)
 */
const COLD_START_MS = 50;
/** How far ahead a worker may book a slot; bounds how many calls sit waiting for their slot. */
export const BOOKING_HORIZON_MS = 50;
/**
 * The hard check's window: as wide as N paced slots (so steady pacing never trips it), which leaves 15 ms for the
 * time between the check and the call reaching the endpoint without N+1 landing in one second there.
 */
export const SLIDING_WINDOW_MS = 1000 * SPACING_FACTOR;

/*
 * GCRA with no burst, shared by every worker process: each granted call books the next slot at
 * max(now, TAT, pausedUntil) and moves TAT one emission interval on. Redis' own clock is the only clock.
 * Books up to ARGV[3] consecutive slots at once (for the calls of one worker asking together), all within the
 * horizon; TAT outlives its slot by a minute (a capping config's slots can be hours apart). Returns {booked,
 * firstWaitMs, intervalMs, retryInMs}: slot i (from 0) is in firstWaitMs + i × intervalMs; those not booked may ask
 * again in retryInMs.
 * KEYS: tat, rate, pause. ARGV: spacingFactor, horizonMs, count.
 */
const RESERVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local rate = tonumber(redis.call('GET', KEYS[2]) or '0')
if rate <= 0 then return {0, '0', '0', '100'} end
local interval = 1000 / rate * tonumber(ARGV[1])
local horizon = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local paused = tonumber(redis.call('GET', KEYS[3]) or '0')
local start = math.max(now, tat, paused)
local booked = 0
local slot = start
while booked < tonumber(ARGV[3]) and slot - now <= horizon do
  booked = booked + 1
  slot = slot + interval
end
if booked > 0 then redis.call('SET', KEYS[1], tostring(slot), 'PX', math.ceil(slot - now) + 60000) end
return {booked, tostring(start - now), tostring(interval), tostring(math.max(1, slot - now - horizon))}
`;

/*
 * The moment a send starts, in one step, for each of the calls of one lane (and, unthrottled, one origin) that
 * start in the same event-loop turn: the hard limit, the call's record and the lane's counters.
 * - The call must still be pending (not rolled back, not ended by another worker or the sweeper).
 * - The call's pause (its lane's, or for an unthrottled lane its origin's) must be over.
 * - Throttled lanes: at most `rate` sends in the last second across all workers. Pacing alone cannot promise it,
 *   since a busy event loop can release booked slots late and together. Early in a busy period the send is
 *   logged COLD_START_MS late (see there).
 * Then the send is logged, the call's job (its record, see call-record.ts) marked `sending` with one more attempt,
 * and the lane's counters bumped.
 * Returns three values per call: {0, attempts, spentMs} to send now (spentMs: the call's budget spent before, see
 * CallStore.saveSpent), {1, waitMs, 0} when the last second is full, {3, waitMs, 0} when paused, {2, 0, 0} when the
 * call is gone or ended.
 * KEYS: lane stats, lane's sent-this-second counter, pause, send log, rate, then each call's job. The send log and
 * rate are the stats key again on unthrottled lanes (ARGV[4] '0'), which have none.
 * ARGV: windowMs, coldStartMs, counterTtlS, paced ('1'/'0'), then each call's send id.
 */
const BEGIN = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local pausedFor = redis.call('PTTL', KEYS[3])
local paced = ARGV[4] == '1'
local window = tonumber(ARGV[1])
local rate = 0
if paced then
  rate = tonumber(redis.call('GET', KEYS[5]) or '0')
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - window)
end
local function begin(job, member)
  local state = redis.call('HGET', job, '${JOB_FIELDS.state}')
  if redis.call('EXISTS', job) == 0 or (state and state ~= 'sending') then return 2, '0', '0' end
  if pausedFor > 0 then return 3, tostring(pausedFor), '0' end
  if paced then
    local oldest = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
    if redis.call('ZCARD', KEYS[4]) >= rate then
      return 1, oldest[2] and tostring(math.max(1, tonumber(oldest[2]) + window - now)) or '100', '0'
    end
    local stamp = now
    if not oldest[2] or now - tonumber(oldest[2]) < window / 2 then stamp = now + tonumber(ARGV[2]) end
    redis.call('ZADD', KEYS[4], stamp, member)
  end
  redis.call('HSET', job, '${JOB_FIELDS.state}', 'sending')
  redis.call('HSETNX', job, '${JOB_FIELDS.sentAt}', math.floor(now))
  local attempts = redis.call('HINCRBY', job, '${JOB_FIELDS.attempts}', 1)
  redis.call('HINCRBY', KEYS[1], 'sent', 1)
  if attempts > 1 then redis.call('HINCRBY', KEYS[1], 'retried', 1) end
  redis.call('INCR', KEYS[2])
  return 0, attempts, redis.call('HGET', job, '${JOB_FIELDS.spentMs}') or '0'
end
local out = {}
for i = 6, #KEYS do
  local code, value, spentMs = begin(KEYS[i], ARGV[i - 1])
  out[#out + 1] = code
  out[#out + 1] = value
  out[#out + 1] = spentMs
end
if paced then redis.call('PEXPIRE', KEYS[4], math.ceil(window * 2)) end
redis.call('EXPIRE', KEYS[2], ARGV[3])
return out
`;
const beginScript = new RedisScript(BEGIN);
/** Calls started together beyond this many go in further scripts, so that no one script holds Redis long. */
const MAX_BEGINS_PER_SCRIPT = 64;

/** Moves logged sends later (they left late). KEYS: send log. ARGV: member, lateMs, member, lateMs, ... */
const RESTAMP = `
for i = 1, #ARGV, 2 do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score then redis.call('ZADD', KEYS[1], 'XX', tonumber(score) + tonumber(ARGV[i + 1]), ARGV[i]) end
end
return 1
`;

/*
 * Pauses calls until ARGV[1] (ms since epoch) unless already paused longer. ARGV[1] '' is a 429/503 with no hint:
 * the pause is then the backoff of CONTRACT §6, 1 s doubling up to 60 s, whose exponent (KEYS[2]) grows once per
 * pause (answers to sends made before it do not grow it again) and is cleared by a success (CallStore.finish).
 * Returns the instant the pause ends. KEYS: pause, backoff. ARGV: untilMs or '', backoff base ms, backoff max ms,
 * backoff memory ms.
 */
const PAUSE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local untilMs = tonumber(ARGV[1])
if not untilMs then
  if current > now then return tostring(current) end
  local streak = redis.call('INCR', KEYS[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[4])
  untilMs = now + math.min(tonumber(ARGV[2]) * 2 ^ math.min(streak - 1, 30), tonumber(ARGV[3]))
end
if untilMs <= current then return tostring(current) end
redis.call('SET', KEYS[1], tostring(math.ceil(untilMs)), 'PX', math.max(1, math.ceil(untilMs - now)))
return tostring(math.ceil(untilMs))
`;

/** The header-less 429/503 backoff (CONTRACT §6). */
export const BACKOFF_BASE_MS = 1000;
export const BACKOFF_MAX_MS = 60_000;
/** A backoff exponent not renewed by another header-less answer for this long starts again from 1 s. */
const BACKOFF_MEMORY_MS = 10 * 60_000;

/** Hands out send slots: paced to the runtime version's rate for throttled lanes, pause-aware for every lane. */
export class Pacer {
  /** Slot requests of one lane made within 2 ms share one RESERVE (the booking horizon is 50 ms). */
  private readonly slots = new TickBatcher<LimitedLane, Slot>(2, (_, requests) => this.reserveMany(requests[0]!, requests.length));
  /** Restamps matter when their sends near the end of the window, a second later: 5 ms of batching is free. */
  private readonly restamps = new TickBatcher<[string, number], void>(5, async (id, sends) => {
    await (this.redis as RedisWithScripts).sluiceRestamp(this.keys.sendLog(id), ...sends.flat());
    return sends.map(() => undefined);
  });

  /** Sends of one lane (and, unthrottled, one origin: one pause key) starting in the same turn share one BEGIN. */
  private readonly begins = new TickBatcher<BeginRequest, BeginResult>(0, async (pauseKey, requests) => {
    const batches = [];
    for (let i = 0; i < requests.length; i += MAX_BEGINS_PER_SCRIPT) {
      batches.push(this.beginMany(pauseKey, requests.slice(i, i + MAX_BEGINS_PER_SCRIPT)));
    }
    return (await Promise.all(batches)).flat();
  });

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RuntimeKeys,
  ) {
    redis.defineCommand("sluiceReserve", { numberOfKeys: 3, lua: RESERVE });
    redis.defineCommand("sluicePause", { numberOfKeys: 2, lua: PAUSE });
    redis.defineCommand("sluiceRestamp", { numberOfKeys: 1, lua: RESTAMP });
  }

  /**
   * Resolves at the slot booked for the next send on a throttled or capped lane (or at once, for an unthrottled one),
   * or as soon as `stop()` says the call no longer wants one (its version drained, its retention passed: a drained
   * version's rate is gone, and no slot would ever come).
   */
  async reserve(lane: Lane, stop: () => boolean): Promise<void> {
    if (lane.kind === "unthrottled") return;
    while (!stop()) {
      const slot = await this.slots.add(laneId(lane), lane);
      if (slot.booked) {
        if (slot.inMs >= 1) await sleep(slot.inMs);
        return;
      }
      await sleep(Math.min(slot.inMs, 250));
    }
  }

  private async reserveMany(lane: LimitedLane, count: number): Promise<Slot[]> {
    const [booked, firstWaitMs, intervalMs, retryInMs] = (await (this.redis as RedisWithScripts).sluiceReserve(
      this.keys.tat(lane),
      this.keys.rate(lane),
      this.keys.pause(lane, ""),
      SPACING_FACTOR,
      BOOKING_HORIZON_MS,
      count,
    )) as [number, string, string, string];
    return Array.from({ length: count }, (_, i) =>
      i < booked ? { booked: true, inMs: Number(firstWaitMs) + i * Number(intervalMs) } : { booked: false, inMs: Number(retryInMs) },
    );
  }

  /**
   * Tries to start a send of call `callId` (see BEGIN); `sendId` names the send in the lane's log. The calls of a
   * lane (and origin) starting in the same event-loop turn share one script.
   * - `go`: send now. `attempts` counts this send; `spentMs` is the call's budget spent before (across waits
   *   outside a worker); `issuedAt` (performance.now()) is when the granting check was issued, which the send's
   *   lateness is measured from.
   * - `wait`: the lane's last second is full (`paused` false) or the call's pause is on (`paused` true); try again
   *   in `ms`.
   * - `gone`: the call was rolled back or has ended, and must not be sent.
   */
  begin(lane: Lane, origin: string, callId: string, sendId: string): Promise<BeginResult> {
    return this.begins.add(this.keys.pause(lane, origin), { lane, callId, sendId });
  }

  /** Starts `requests`, all of one lane and pause key (`pauseKey`, the batch's key). */
  private async beginMany(pauseKey: string, requests: BeginRequest[]): Promise<BeginResult[]> {
    const { lane } = requests[0]!;
    const paced = lane.kind === "throttled";
    const stats = this.keys.stats(lane);
    const laneKeys = [
      stats,
      this.keys.sentInSecond(lane, Math.floor(Date.now() / 1000)),
      pauseKey,
      paced ? this.keys.sendLog(lane.runtimeVersionId) : stats,
      paced ? this.keys.rate(lane) : stats,
    ];
    const issuedAt = performance.now();
    const replies = (await beginScript.run(
      this.redis,
      [...laneKeys, ...requests.map((request) => this.keys.job(request.callId))],
      [SLIDING_WINDOW_MS, COLD_START_MS, SECOND_COUNTER_TTL_S, paced ? "1" : "0", ...requests.map((request) => request.sendId)],
    )) as (number | string)[];
    return requests.map((_, i): BeginResult => {
      const [code, value, spentMs] = replies.slice(i * 3, i * 3 + 3);
      if (code === 0) return { kind: "go", attempts: Number(value), spentMs: Number(spentMs), issuedAt };
      if (code === 2) return { kind: "gone" };
      return { kind: "wait", ms: Number(value), paused: code === 3 };
    });
  }

  /**
   * A send that reached its socket `lateMs` after its slot was granted (a cold connection, a busy event loop) is
   * logged at the time it really left, so later checks count it where the endpoint sees it.
   */
  async restamp(lane: Lane, sendId: string, lateMs: number): Promise<void> {
    if (lane.kind !== "throttled") return;
    await this.restamps.add(lane.runtimeVersionId, [sendId, lateMs]);
  }

  /**
   * Pauses a throttled lane, or an unthrottled lane's calls to `origin`, for every worker process: until
   * `untilMs`, or by the backoff of a 429/503 with no hint when `untilMs` is undefined. Resolves with the end.
   */
  async pause(lane: Lane, origin: string, untilMs?: number): Promise<number> {
    const end = await (this.redis as RedisWithScripts).sluicePause(
      this.keys.pause(lane, origin),
      this.keys.backoff(lane, origin),
      untilMs === undefined ? "" : Math.ceil(untilMs),
      BACKOFF_BASE_MS,
      BACKOFF_MAX_MS,
      BACKOFF_MEMORY_MS,
    );
    return Number(end);
  }

  /** The calls per second a lane's slots are spaced for (fractions welcome: a capping config's can be 100 a day). */
  async setRate(lane: LimitedLane, ratePerSecond: number): Promise<void> {
    await this.redis.set(this.keys.rate(lane), String(ratePerSecond));
  }
}

type BeginRequest = { lane: Lane; callId: string; sendId: string };

/** A booked slot (send in `inMs`), or none within the horizon (ask again in `inMs`). */
type Slot = { booked: boolean; inMs: number };

export type BeginResult =
  | { kind: "go"; attempts: number; spentMs: number; issuedAt: number }
  | { kind: "wait"; ms: number; paused: boolean }
  | { kind: "gone" };

type RedisWithScripts = RedisClient & {
  sluiceReserve(...args: (string | number)[]): Promise<unknown>;
  sluicePause(...args: (string | number)[]): Promise<unknown>;
  sluiceRestamp(...args: (string | number)[]): Promise<unknown>;
};
