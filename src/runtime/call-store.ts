import type { RedisClient } from "../shared/redis.js";
import { TickBatcher } from "../shared/tick-batcher.js";
import type { CallRecord, CallState } from "./accept/call.schema.js";
import { finishedRecord, finishedTail, JOB_FIELDS, pendingRecord, recordedResponse, ROLLED_BACK } from "./call-record.js";
import { laneId, splitCallId, unthrottledLane, versionOfCall, type Lane, type RuntimeKeys } from "./keys.js";
import type { OrgBudget } from "./org-budget.js";
import { RECORD_TTL_MS } from "./settings.js";
import { latencyField } from "./stats.js";

export interface FinalOutcome {
  state: Extract<CallState, "succeeded" | "failed" | "expired" | "dropped">;
  response?: CallRecord["response"];
  error?: string;
}

/**
 * Call records (see call-record.ts for how each is kept), all in the call's lane's slot: read, moved through a send,
 * and finished, each step in one script.
 */
export class CallStore {
  /** What the calls of one org ending within 5 ms free is given back in one step (the org's capacity, CONTRACT §11). */
  private readonly releases = new TickBatcher<number, void>(5, async (orgId, freed) => {
    await this.budget.release(orgId, freed.length, freed.reduce((sum, bytes) => sum + bytes, 0));
    return freed.map(() => undefined);
  });

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RuntimeKeys,
    private readonly budget: OrgBudget,
  ) {
    redis.defineCommand("sluiceFinishCall", { numberOfKeys: 4, lua: FINISH });
    redis.defineCommand("sluiceRequeueCall", { numberOfKeys: 1, lua: REQUEUE });
    redis.defineCommand("sluiceSaveSpent", { numberOfKeys: 1, lua: SAVE_SPENT });
    redis.defineCommand("sluiceRollBackCall", { numberOfKeys: 1, lua: ROLL_BACK });
  }

  /**
   * Records what a throttled lane's records name. Written with the lane's first calls, before any can be read; kept
   * until 24 h after the lane's drain (`expireLaneInfo`), as long as the records of its calls.
   */
  async saveLaneInfo(runtimeVersionId: string, info: { orgId: string; throttlingConfigUid?: string; runtimeVersion: number }): Promise<void> {
    await this.redis.hset(this.keys.laneInfo(runtimeVersionId), {
      orgId: info.orgId,
      version: String(info.runtimeVersion),
      ...(info.throttlingConfigUid ? { configUid: info.throttlingConfigUid } : {}),
    });
  }

  async expireLaneInfo(runtimeVersionId: string): Promise<void> {
    await this.redis.pexpire(this.keys.laneInfo(runtimeVersionId), RECORD_TTL_MS);
  }

  /** The org a lane's calls belong to, or undefined if nothing is known of the lane. */
  async ownerOf(lane: Lane): Promise<string | undefined> {
    if (lane.kind === "unthrottled") return lane.orgId;
    return (await this.redis.hget(this.keys.laneInfo(lane.runtimeVersionId), "orgId")) ?? undefined;
  }

  /**
   * The call's record, if `orgId` owns it. An unthrottled lane's id is its org's digest; a throttled lane's owner is
   * in its info. The reads share the call's slot and run in one round trip; the finished record wins, since the job
   * may end between them.
   */
  async get(callId: string, orgId: string): Promise<CallRecord | undefined> {
    const [lane] = splitCallId(callId);
    const unthrottled = lane === laneId(unthrottledLane(orgId));
    const versionId = versionOfCall(callId);
    if (!unthrottled && !versionId) return undefined;
    const pipeline = this.redis.pipeline();
    pipeline.hmget(this.keys.job(callId), "name", "timestamp", JOB_FIELDS.state, JOB_FIELDS.attempts, JOB_FIELDS.sentAt);
    pipeline.get(this.keys.call(callId));
    if (versionId) pipeline.hmget(this.keys.laneInfo(versionId), "orgId", "configUid", "version");
    const [job, finished, info] = (await pipeline.exec())!.map(([error, reply]) => {
      if (error) throw error;
      return reply;
    }) as [(string | null)[], string | null, (string | null)[] | undefined];
    let laneView: Parameters<typeof finishedRecord>[2] = { throttled: false };
    if (!unthrottled) {
      if (info?.[0] !== orgId) return undefined;
      laneView = { throttled: true, ...(info[1] ? { throttlingConfigUid: info[1] } : {}), runtimeVersion: Number(info[2]) };
    }
    if (finished !== null) return finishedRecord(callId, finished, laneView);
    const [name, timestamp, state, attempts, sentAt] = job;
    if (!name || !timestamp || state === ROLLED_BACK) return undefined;
    return pendingRecord(callId, { name, timestamp, state: state ?? null, attempts: attempts ?? null, sentAt: sentAt ?? null }, laneView);
  }

  /** A send answered by a pause signal: it does not count as an attempt after all, and the call waits again. */
  async requeue(callId: string): Promise<void> {
    await (this.redis as RedisWithScripts).sluiceRequeueCall(this.keys.job(callId));
  }

  /** How much of its `timeoutMs` budget a call has spent, kept while it waits outside a worker (see Pacer.begin). */
  async saveSpent(callId: string, spentMs: number): Promise<void> {
    await (this.redis as RedisWithScripts).sluiceSaveSpent(this.keys.job(callId), spentMs);
  }

  /** Calls of a submission that was refused after their jobs were written: never sent, never shown. */
  async rollBack(callIds: string[]): Promise<void> {
    await Promise.all(callIds.map((callId) => (this.redis as RedisWithScripts).sluiceRollBackCall(this.keys.job(callId))));
  }

  /**
   * Writes the finished record unless the call ended already (or was rolled back) and counts the outcome (and the
   * last send's latency, if there was one) in the lane's stats, atomically: a call finished by both a worker and the
   * sweeper is counted once. A success also ends the backoff of its lane's header-less 429/503s (`backoffKey`,
   * CONTRACT §6). Then, once, the org's queue slot and bytes are freed (a separate step: they live in the org's
   * slot). The job itself is removed by whoever holds it (the worker completing it, the sweeper removing it).
   * Returns false if it had ended already.
   */
  async finish(
    callId: string,
    orgId: string,
    lane: Lane,
    outcome: FinalOutcome,
    sent?: { lastSendMs: number; backoffKey: string },
  ): Promise<boolean> {
    const response = outcome.response ? recordedResponse(outcome.response) : undefined;
    const freedBytes = await (this.redis as RedisWithScripts).sluiceFinishCall(
      this.keys.job(callId),
      this.keys.call(callId),
      this.keys.stats(lane),
      sent?.backoffKey ?? this.keys.backoff(lane, ""),
      sent ? 1 : 0,
      RECORD_TTL_MS,
      outcome.state,
      sent ? latencyField(sent.lastSendMs) : "",
      sent?.lastSendMs ?? 0,
      Date.now(),
      finishedTail(response, outcome.error),
    );
    if (freedBytes < 0) return false;
    await this.releases.add(orgId, freedBytes);
    return true;
  }
}

// KEYS: job. Takes back the attempt a paused send counted, and marks the call queued unless it has ended.
const REQUEUE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HINCRBY', KEYS[1], '${JOB_FIELDS.attempts}', -1) < 0 then redis.call('HSET', KEYS[1], '${JOB_FIELDS.attempts}', 0) end
if redis.call('HGET', KEYS[1], '${JOB_FIELDS.state}') == 'sending' then redis.call('HDEL', KEYS[1], '${JOB_FIELDS.state}') end
return 1
`;

// KEYS: job. ARGV: spent ms. Never recreates a job that is gone.
const SAVE_SPENT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], '${JOB_FIELDS.spentMs}', ARGV[1])
return 1
`;

// KEYS: job. A call not ended yet becomes a rolled-back job, which workers and readers skip.
const ROLL_BACK = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local state = redis.call('HGET', KEYS[1], '${JOB_FIELDS.state}')
if state and state ~= 'sending' then return 0 end
redis.call('HSET', KEYS[1], '${JOB_FIELDS.state}', '${ROLLED_BACK}')
return 1
`;

// KEYS: job, finished record, lane stats, backoff of the call's pause. ARGV: sent (1: the call was sent, its
// success ends the backoff), ttlMs, final state, latency field or '', latency ms, completedAt, the record's tail
// (finishedTail). Builds the finished record (see call-record.ts) from the job's name (jobName: method, URL and
// bytes), timestamp and fields; cjson writes '/' as '\\/', which is undone in the URL. Returns the bytes the call
// held, or -1 if it had ended already or is not a call.
const FINISH = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local job = redis.call('HMGET', KEYS[1], '${JOB_FIELDS.state}', 'name', 'timestamp', '${JOB_FIELDS.attempts}', '${JOB_FIELDS.sentAt}')
if job[1] and job[1] ~= 'sending' then return -1 end
local method, url, bytes = string.match(job[2] or '', '^(%S+) (%S+) (%d+)$')
redis.call('HSET', KEYS[1], '${JOB_FIELDS.state}', ARGV[3])
local record = '["' .. ARGV[3] .. '",' .. (job[4] or '0') .. ',' .. (job[3] or '0') .. ',' .. (job[5] or 'null') .. ',' ..
  ARGV[6] .. ',' .. cjson.encode(method or '') .. ',' .. string.gsub(cjson.encode(url or ''), '\\\\/', '/') .. ARGV[7] .. ']'
redis.call('SET', KEYS[2], record, 'PX', ARGV[2])
redis.call('HINCRBY', KEYS[3], ARGV[3], 1)
if ARGV[4] ~= '' then
  redis.call('HINCRBY', KEYS[3], ARGV[4], 1)
  redis.call('HINCRBYFLOAT', KEYS[3], 'latency:sum', ARGV[5])
end
if ARGV[1] == '1' and ARGV[3] == 'succeeded' then redis.call('DEL', KEYS[4]) end
return tonumber(bytes) or 0
`;

type RedisWithScripts = RedisClient & {
  sluiceFinishCall(...args: (string | number)[]): Promise<number>;
  sluiceRequeueCall(key: string): Promise<number>;
  sluiceSaveSpent(key: string, spentMs: number): Promise<number>;
  sluiceRollBackCall(key: string): Promise<number>;
};
