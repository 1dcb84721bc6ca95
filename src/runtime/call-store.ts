import type { Redis } from "ioredis";
import type { CallRecord, CallState } from "./accept/call.schema.js";
import { laneId, type Lane, type RuntimeKeys } from "./keys.js";
import { RECORD_TTL_MS } from "./settings.js";
import { latencyField } from "./stats.js";

/** What the call API knows when it accepts a call; the rest of the record is filled in by the worker. */
export interface NewCall {
  callId: string;
  orgId: string;
  method: string;
  url: string;
  throttled: boolean;
  throttlingConfigUid?: string;
  runtimeVersionId?: string;
  runtimeVersion?: number;
  acceptedAt: number;
}

export interface FinalOutcome {
  state: Extract<CallState, "succeeded" | "failed" | "expired" | "dropped">;
  response?: CallRecord["response"];
  error?: string;
}

type Fields = Record<string, string>;

const iso = (ms: string | undefined) => (ms ? new Date(Number(ms)).toISOString() : undefined);

/**
 * Call records: one Redis hash per call. While queued it lives until the call can no longer be pending;
 * once the call ends it is kept 24 h (CONTRACT §6).
 */
export class CallStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RuntimeKeys,
    /** How long a pending record may live: retention + drain, so it always outlives its call. */
    private readonly pendingTtlMs: number,
  ) {
    redis.defineCommand("sluiceFinishCall", { numberOfKeys: 3, lua: FINISH });
    redis.defineCommand("sluiceCreateCalls", { lua: CREATE });
  }

  /**
   * Writes the records of newly accepted calls, in one script call (a command per record cost the call API more
   * than BullMQ's own addBulk). The write leaves at once, ahead of anything issued on this connection after it.
   */
  async create(calls: NewCall[]): Promise<void> {
    const records = calls.map((call) =>
      Object.entries({
        callId: call.callId,
        orgId: call.orgId,
        method: call.method,
        url: call.url,
        state: "queued",
        throttled: call.throttled ? "1" : "0",
        attempts: "0",
        acceptedAt: String(call.acceptedAt),
        ...(call.throttlingConfigUid ? { throttlingConfigUid: call.throttlingConfigUid } : {}),
        ...(call.runtimeVersionId ? { runtimeVersionId: call.runtimeVersionId, runtimeVersion: String(call.runtimeVersion) } : {}),
      }).flat(),
    );
    const keys = calls.map((call) => this.keys.call(call.callId));
    // An explicit pipeline is written immediately; auto-pipelined commands would wait for the end of the tick.
    const pipeline = this.redis.pipeline() as ReturnType<Redis["pipeline"]> & CreateCommand;
    const [reply] = (await pipeline.sluiceCreateCalls(keys.length, ...keys, this.pendingTtlMs + RECORD_TTL_MS, JSON.stringify(records)).exec())!;
    if (reply?.[0]) throw reply[0];
  }

  /** The record as callers see it, and the org that owns it (never shown to callers). */
  async get(callId: string): Promise<{ orgId: string; record: CallRecord } | undefined> {
    const fields = (await this.redis.hgetall(this.keys.call(callId))) as Fields;
    return fields["callId"] ? { orgId: fields["orgId"]!, record: toRecord(fields) } : undefined;
  }

  /** A send answered by a pause signal: it does not count as an attempt after all. */
  async uncountAttempt(callId: string): Promise<void> {
    await this.redis.hincrby(this.keys.call(callId), "attempts", -1);
  }

  /**
   * Writes the terminal state unless the record already has one, frees the org's queue slot and counts the
   * outcome (and the last send's latency, if there was one) in the lane's stats, atomically: a call finished by
   * both a worker and the sweeper is counted once. Returns false if it had ended already.
   */
  async finish(callId: string, orgId: string, lane: Lane, outcome: FinalOutcome, lastSendMs?: number): Promise<boolean> {
    const fields: Fields = {
      completedAt: String(Date.now()),
      ...(outcome.response ? { response: JSON.stringify(outcome.response) } : {}),
      ...(outcome.error ? { error: outcome.error } : {}),
    };
    const done = await (this.redis as RedisWithFinish).sluiceFinishCall(
      this.keys.call(callId),
      this.keys.orgQueued(orgId),
      this.keys.stats(laneId(lane)),
      RECORD_TTL_MS,
      outcome.state,
      lastSendMs === undefined ? "" : latencyField(lastSendMs),
      lastSendMs ?? 0,
      ...Object.entries(fields).flat(),
    );
    return done === 1;
  }
}

// KEYS: the records. ARGV: ttlMs, JSON array with each record's [field, value, ...].
const CREATE = `
local records = cjson.decode(ARGV[2])
for i, key in ipairs(KEYS) do
  redis.call('HSET', key, unpack(records[i]))
  redis.call('PEXPIRE', key, ARGV[1])
end
return #KEYS
`;

type CreateCommand = { sluiceCreateCalls(...args: (string | number)[]): ReturnType<Redis["pipeline"]> };

// KEYS: call record, org queued counter, lane stats. ARGV: ttlMs, final state, latency field or '', latency ms,
// field, value, ...
const FINISH = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state or state == 'succeeded' or state == 'failed' or state == 'expired' or state == 'dropped' then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[2], unpack(ARGV, 5))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('HINCRBY', KEYS[3], ARGV[2], 1)
if ARGV[3] ~= '' then
  redis.call('HINCRBY', KEYS[3], ARGV[3], 1)
  redis.call('HINCRBYFLOAT', KEYS[3], 'latency:sum', ARGV[4])
end
if redis.call('DECR', KEYS[2]) < 0 then redis.call('SET', KEYS[2], 0) end
return 1
`;

type RedisWithFinish = Redis & { sluiceFinishCall(...args: (string | number)[]): Promise<number> };

function toRecord(fields: Fields): CallRecord {
  const acceptedAt = Number(fields["acceptedAt"]);
  const firstSend = fields["sentAt"] ? Number(fields["sentAt"]) : undefined;
  const end = firstSend ?? (fields["completedAt"] ? Number(fields["completedAt"]) : Date.now());
  return {
    callId: fields["callId"]!,
    state: fields["state"] as CallState,
    throttled: fields["throttled"] === "1",
    ...(fields["throttlingConfigUid"] ? { throttlingConfigUid: fields["throttlingConfigUid"] } : {}),
    ...(fields["runtimeVersion"] ? { runtimeVersion: Number(fields["runtimeVersion"]) } : {}),
    method: fields["method"] as CallRecord["method"],
    url: fields["url"]!,
    attempts: Number(fields["attempts"] ?? 0),
    acceptedAt: new Date(acceptedAt).toISOString(),
    ...(firstSend ? { sentAt: iso(fields["sentAt"]) } : {}),
    ...(fields["completedAt"] ? { completedAt: iso(fields["completedAt"]) } : {}),
    waitMs: Math.max(0, end - acceptedAt),
    ...(fields["response"] ? { response: JSON.parse(fields["response"]) as CallRecord["response"] } : {}),
    ...(fields["error"] ? { error: fields["error"] } : {}),
  };
}
