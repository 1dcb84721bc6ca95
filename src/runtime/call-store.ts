import type { RedisClient } from "../shared/redis.js";
import type { CallRecord, CallState } from "./accept/call.schema.js";
import type { Lane, RuntimeKeys } from "./keys.js";
import type { OrgBudget } from "./org-budget.js";
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
  /** What the call counts against its org's byte budget: method, URL, headers and body. */
  bytes: number;
}

export interface FinalOutcome {
  state: Extract<CallState, "succeeded" | "failed" | "expired" | "dropped">;
  response?: CallRecord["response"];
  error?: string;
}

type Fields = Record<string, string>;

const iso = (ms: string | undefined) => (ms ? new Date(Number(ms)).toISOString() : undefined);

/**
 * Call records: one Redis hash per call, in its lane's slot. While queued it lives until the call can no longer be
 * pending; once the call ends it is kept 24 h (CONTRACT §6).
 */
export class CallStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RuntimeKeys,
    private readonly budget: OrgBudget,
    /** How long a pending record may live: retention + drain, so it always outlives its call. */
    private readonly pendingTtlMs: number,
  ) {
    // Every script declares a fixed number of keys: auto-pipelining on a cluster groups a command by its first
    // argument, which must therefore be a key, not a key count.
    redis.defineCommand("sluiceFinishCall", { numberOfKeys: 3, lua: FINISH });
    redis.defineCommand("sluiceCreateCalls", { lua: CREATE });
    redis.defineCommand("sluiceRequeueCall", { numberOfKeys: 1, lua: REQUEUE });
  }

  /**
   * Writes the records of newly accepted calls of one lane, in one script call (a command per record cost the call
   * API more than BullMQ's own addBulk). The write leaves at once, ahead of anything issued on this connection
   * (on a cluster: to this lane's node) after it.
   */
  async create(calls: NewCall[]): Promise<void> {
    const records = calls.map((call) =>
      Object.entries({
        orgId: call.orgId,
        method: call.method,
        url: call.url,
        state: "queued",
        throttled: call.throttled ? "1" : "0",
        attempts: "0",
        acceptedAt: String(call.acceptedAt),
        bytes: String(call.bytes),
        ...(call.throttlingConfigUid ? { throttlingConfigUid: call.throttlingConfigUid } : {}),
        ...(call.runtimeVersionId ? { runtimeVersionId: call.runtimeVersionId, runtimeVersion: String(call.runtimeVersion) } : {}),
      }).flat(),
    );
    const keys = calls.map((call) => this.keys.call(call.callId));
    // An explicit pipeline is written immediately; auto-pipelined commands would wait for the end of the tick.
    const pipeline = this.redis.pipeline() as ReturnType<RedisClient["pipeline"]> & CreateCommand;
    const [reply] = (await pipeline.sluiceCreateCalls(keys.length, ...keys, this.pendingTtlMs + RECORD_TTL_MS, JSON.stringify(records)).exec())!;
    if (reply?.[0]) throw reply[0];
  }

  /** The record as callers see it, and the org that owns it (never shown to callers). */
  async get(callId: string): Promise<{ orgId: string; record: CallRecord } | undefined> {
    const fields = (await this.redis.hgetall(this.keys.call(callId))) as Fields;
    return fields["state"] ? { orgId: fields["orgId"]!, record: toRecord(callId, fields) } : undefined;
  }

  /** A send answered by a pause signal: it does not count as an attempt after all, and the call waits again. */
  async requeue(callId: string): Promise<void> {
    await (this.redis as RedisWithRequeue).sluiceRequeueCall(this.keys.call(callId));
  }

  /** How much of its `timeoutMs` budget a call has spent, kept while it waits outside a worker (see Pacer.begin). */
  async saveSpent(callId: string, spentMs: number): Promise<void> {
    await this.redis.hset(this.keys.call(callId), "spentMs", String(spentMs));
  }

  /**
   * Writes the terminal state unless the record already has one and counts the outcome (and the last send's
   * latency, if there was one) in the lane's stats, atomically: a call finished by both a worker and the sweeper is
   * counted once. A success also ends the backoff of its lane's header-less 429/503s (`backoffKey`, CONTRACT §6).
   * Then, once, the org's queue slot and bytes are freed (a separate step: they live in the org's slot). Returns
   * false if it had ended already.
   */
  async finish(
    callId: string,
    orgId: string,
    lane: Lane,
    outcome: FinalOutcome,
    sent?: { lastSendMs: number; backoffKey: string },
  ): Promise<boolean> {
    const fields: Fields = {
      completedAt: String(Date.now()),
      ...(outcome.response ? { response: JSON.stringify(outcome.response) } : {}),
      ...(outcome.error ? { error: outcome.error } : {}),
    };
    const freedBytes = await (this.redis as RedisWithFinish).sluiceFinishCall(
      this.keys.call(callId),
      this.keys.stats(lane),
      sent?.backoffKey ?? this.keys.backoff(lane, ""),
      sent ? 1 : 0,
      RECORD_TTL_MS,
      outcome.state,
      sent ? latencyField(sent.lastSendMs) : "",
      sent?.lastSendMs ?? 0,
      ...Object.entries(fields).flat(),
    );
    if (freedBytes < 0) return false;
    await this.budget.release(orgId, 1, freedBytes);
    return true;
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

// KEYS: call record. Takes back the attempt a paused send counted, and marks the call queued unless it has ended.
const REQUEUE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HINCRBY', KEYS[1], 'attempts', -1) < 0 then redis.call('HSET', KEYS[1], 'attempts', 0) end
if redis.call('HGET', KEYS[1], 'state') == 'sending' then redis.call('HSET', KEYS[1], 'state', 'queued') end
return 1
`;

type RedisWithRequeue = RedisClient & { sluiceRequeueCall(key: string): Promise<number> };

type CreateCommand = { sluiceCreateCalls(...args: (string | number)[]): ReturnType<RedisClient["pipeline"]> };

// KEYS: call record, lane stats, backoff of the call's pause. ARGV: sent (1: the call was sent, its success ends
// the backoff), ttlMs, final state, latency field or '', latency ms, field, value, ... Returns the bytes the call
// held, or -1 if it had ended already.
const FINISH = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state or state == 'succeeded' or state == 'failed' or state == 'expired' or state == 'dropped' then return -1 end
local bytes = tonumber(redis.call('HGET', KEYS[1], 'bytes') or '0')
redis.call('HSET', KEYS[1], 'state', ARGV[3], unpack(ARGV, 6))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('HINCRBY', KEYS[2], ARGV[3], 1)
if ARGV[4] ~= '' then
  redis.call('HINCRBY', KEYS[2], ARGV[4], 1)
  redis.call('HINCRBYFLOAT', KEYS[2], 'latency:sum', ARGV[5])
end
if ARGV[1] == '1' and ARGV[3] == 'succeeded' then redis.call('DEL', KEYS[3]) end
return bytes
`;

type RedisWithFinish = RedisClient & { sluiceFinishCall(...args: (string | number)[]): Promise<number> };

/** A record as stored (its key names the call: the id is not kept again inside). */
function toRecord(callId: string, fields: Fields): CallRecord {
  const acceptedAt = Number(fields["acceptedAt"]);
  const firstSend = fields["sentAt"] ? Number(fields["sentAt"]) : undefined;
  const end = firstSend ?? (fields["completedAt"] ? Number(fields["completedAt"]) : Date.now());
  return {
    callId,
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
