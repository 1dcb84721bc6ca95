import { execPipeline, type RedisClient } from "../shared/redis.js";
import { RedisScript } from "../shared/redis-script.js";
import { TickBatcher } from "../shared/tick-batcher.js";
import type { CallRecord, CallState } from "./accept/call.schema.js";
import {
  callbackView,
  describeLimits,
  finishedAlsoLimitedBy,
  finishedRecord,
  finishedTail,
  JOB_FIELDS,
  pendingRecord,
  recordedResponse,
  ROLLED_BACK,
  type StoredLaneInfo,
} from "./call-record.js";
import { parseJobName, parseLaneIds, type CallJob } from "./queues.js";
import { laneId, limitedLaneOfCall, splitCallId, unthrottledLane, type Lane, type LimitedLane, type RuntimeKeys } from "./keys.js";
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
  /**
   * The calls of one org ending within 5 ms are freed in one step (the org's capacity, CONTRACT §11), then no longer
   * noted as unreleased in their lanes.
   */
  private readonly releases = new TickBatcher<{ callId: string; bytes: number }, void>(5, async (orgId, ended) => {
    await this.budget.release(orgId, ended.length, ended.reduce((sum, call) => sum + call.bytes, 0));
    const byLane = new Map<string, string[]>();
    for (const { callId } of ended) {
      const [lane, own] = splitCallId(callId);
      const owns = byLane.get(lane);
      if (owns) owns.push(own);
      else byLane.set(lane, [own]);
    }
    await Promise.all([...byLane].map(([lane, owns]) => this.redis.hdel(this.keys.unreleased(lane), ...owns)));
    return ended.map(() => undefined);
  });

  private readonly claimScript = new RedisScript(CLAIM_UNRELEASED);

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RuntimeKeys,
    private readonly budget: OrgBudget,
  ) {
    redis.defineCommand("sluiceFinishCall", { numberOfKeys: 8, lua: FINISH });
    redis.defineCommand("sluiceRequeueCall", { numberOfKeys: 1, lua: REQUEUE });
    redis.defineCommand("sluiceSaveSpent", { numberOfKeys: 1, lua: SAVE_SPENT });
    redis.defineCommand("sluiceRollBackCall", { numberOfKeys: 2, lua: ROLL_BACK });
  }

  /**
   * Records what the records of a throttled or capped lane's calls name. Written with the first calls that name the
   * lane, before any can be read; kept until 24 h after the lane's drain (`expireLaneInfo`), as long as the records
   * of its calls.
   */
  async saveLaneInfo(lane: LimitedLane, info: StoredLaneInfo & { orgId: string }): Promise<void> {
    await this.redis.hset(this.keys.laneInfo(lane), {
      orgId: info.orgId,
      ...(info.version !== undefined ? { version: String(info.version) } : {}),
      ...(info.configUid ? { configUid: info.configUid } : {}),
    });
  }

  async expireLaneInfo(lane: LimitedLane): Promise<void> {
    await this.redis.pexpire(this.keys.laneInfo(lane), RECORD_TTL_MS);
  }

  /** The org a lane's calls belong to, or undefined if nothing is known of the lane. */
  async ownerOf(lane: Lane): Promise<string | undefined> {
    if (lane.kind === "unthrottled") return lane.orgId;
    return (await this.redis.hget(this.keys.laneInfo(lane), "orgId")) ?? undefined;
  }

  /** The call's record, if `orgId` owns it. */
  async get(callId: string, orgId: string): Promise<CallRecord | undefined> {
    return (await this.getMany([callId], orgId))[0];
  }

  /**
   * The records of these calls that `orgId` owns (undefined for the others): one round trip per slot for the calls,
   * then one for the infos of the lanes they name. An unthrottled lane's id is its org's digest; a throttled or
   * capped lane's owner is in its info. A call's reads share its slot; the finished record wins, since the job may
   * end between them.
   */
  async getMany(callIds: readonly string[], orgId: string): Promise<(CallRecord | undefined)[]> {
    const ownLane = laneId(unthrottledLane(orgId));
    const pipeline = this.redis.pipeline();
    const readable = callIds.map((callId) => {
      if (splitCallId(callId)[0] !== ownLane && !limitedLaneOfCall(callId)) return false;
      pipeline.hmget(this.keys.job(callId), "name", "timestamp", JOB_FIELDS.state, JOB_FIELDS.attempts, JOB_FIELDS.sentAt);
      pipeline.get(this.keys.call(callId));
      pipeline.hmget(this.keys.callback(callId), "state", "attempts", "lastStatus");
      return true;
    });
    const replies = await execPipeline(pipeline);
    let at = 0;
    const reads = callIds.map((callId, i) => {
      if (!readable[i]) return undefined;
      const [job, finished, callback] = replies.slice(at, (at += 3)) as [(string | null)[], string | null, (string | null)[]];
      const own = limitedLaneOfCall(callId);
      const also = finished !== null ? parseLaneIds(finishedAlsoLimitedBy(finished)) : (parseJobName(job[0] ?? "").alsoLimitedBy ?? []);
      return { job, finished, callback, lanes: own ? [own, ...also] : also, own };
    });
    const infos = await this.laneInfos(reads.flatMap((read) => read?.lanes ?? []));
    return callIds.map((callId, i) => {
      const read = reads[i];
      if (!read || (read.own && infos.get(laneId(read.own))?.orgId !== orgId)) return undefined;
      const lane = describeLimits(read.lanes.map((limited) => ({ lane: limited, info: infos.get(laneId(limited)) })));
      const { job, finished, callback } = read;
      if (finished !== null) return finishedRecord(callId, finished, lane, callbackView(callback));
      const [name, timestamp, state, attempts, sentAt] = job;
      if (!name || !timestamp || state === ROLLED_BACK) return undefined;
      return pendingRecord(callId, { name, timestamp, state: state ?? null, attempts: attempts ?? null, sentAt: sentAt ?? null }, lane);
    });
  }

  /**
   * The infos of these lanes (see saveLaneInfo), by lane id, issued together: each lives in its lane's slot, so on a
   * cluster they go to several nodes (auto-pipelined per node), never in one cross-slot pipeline.
   */
  private async laneInfos(lanes: readonly LimitedLane[]): Promise<Map<string, StoredLaneInfo>> {
    const unique = new Map(lanes.map((lane) => [laneId(lane), lane]));
    const replies = await Promise.all([...unique.values()].map((lane) => this.redis.hmget(this.keys.laneInfo(lane), "orgId", "configUid", "version")));
    return new Map(
      [...unique.keys()].map((id, i) => {
        const [owner, configUid, version] = replies[i] ?? [];
        return [id, { orgId: owner ?? undefined, configUid: configUid ?? undefined, version: version ? Number(version) : undefined }];
      }),
    );
  }

  /** What a failed, expired or dropped call needs to be sent again, while its record lives. */
  async replayable(callId: string): Promise<{ data: CallJob; callbackUrl?: string } | undefined> {
    const [data, callbackUrl] = await Promise.all([this.redis.get(this.keys.replay(callId)), this.redis.hget(this.keys.callback(callId), "url")]);
    if (data === null) return undefined;
    return { data: JSON.parse(data) as CallJob, ...(callbackUrl ? { callbackUrl } : {}) };
  }

  /**
   * Takes the lane's notes of calls that ended before `beforeMs` and were not freed yet (see finish): each is taken
   * once, by whoever frees it. Returns how many calls and bytes to free, and how many notes are left.
   */
  async claimUnreleased(laneId: string, beforeMs: number): Promise<{ calls: number; bytes: number; left: number }> {
    const [calls, bytes, left] = (await this.claimScript.run(this.redis, [this.keys.unreleased(laneId)], [beforeMs])) as number[];
    return { calls: calls ?? 0, bytes: bytes ?? 0, left: left ?? 0 };
  }

  /** A send answered by a pause signal: it does not count as an attempt after all, and the call waits again. */
  async requeue(callId: string): Promise<void> {
    await (this.redis as RedisWithScripts).sluiceRequeueCall(this.keys.job(callId));
  }

  /** How much of its `timeoutMs` budget a call has spent, kept while it waits outside a worker (see Pacer.begin). */
  async saveSpent(callId: string, spentMs: number): Promise<void> {
    await (this.redis as RedisWithScripts).sluiceSaveSpent(this.keys.job(callId), spentMs);
  }

  /**
   * Calls of a submission that was refused: never sent, never shown, unless a worker took one already (it is sent,
   * and ends as any call). True for each call that will never be sent (rolled back, or never written).
   */
  async rollBack(callIds: string[]): Promise<boolean[]> {
    const rolled = callIds.map((callId) => (this.redis as RedisWithScripts).sluiceRollBackCall(this.keys.job(callId), this.keys.call(callId)));
    return (await Promise.all(rolled)).map((reply) => reply === 1);
  }

  /**
   * Writes the finished record unless the call ended already (or was rolled back) and counts the outcome (and the
   * last send's latency, if there was one) in the lane's stats, atomically: a call finished by both a worker and the
   * sweeper is counted once. In the same step, a call with a callbackUrl joins its lane's callback outbox (CONTRACT
   * §10: every terminal state is called back), and a call that did not succeed keeps its request for a replay. A
   * success also ends the backoff of its lane's header-less 429/503s (`backoffKey`, CONTRACT §6). Then the org's
   * queue slot and bytes are freed (a separate step: they live in the org's slot). Until then the call is noted as
   * unreleased in its lane, where the reconciler finds it if this process dies in between (and frees it again if
   * this process dies after freeing it and before clearing the note: the count never goes below zero). The job itself is
   * removed by whoever holds it (the worker completing it, the sweeper removing it). Returns what happened:
   * `callback` when the call ended with a callback to deliver.
   */
  async finish(
    callId: string,
    orgId: string,
    lane: Lane,
    outcome: FinalOutcome,
    sent?: { lastSendMs: number; backoffKey: string },
  ): Promise<"ended-before" | "finished" | "callback"> {
    const response = outcome.response ? recordedResponse(outcome.response) : undefined;
    const [laneOfCall, own] = splitCallId(callId);
    const reply = await (this.redis as RedisWithScripts).sluiceFinishCall(
      this.keys.job(callId),
      this.keys.call(callId),
      this.keys.stats(lane),
      sent?.backoffKey ?? this.keys.backoff(lane, ""),
      this.keys.callback(callId),
      this.keys.callbackOutbox(laneOfCall),
      this.keys.replay(callId),
      this.keys.unreleased(laneOfCall),
      sent ? 1 : 0,
      RECORD_TTL_MS,
      outcome.state,
      sent ? latencyField(sent.lastSendMs) : "",
      sent?.lastSendMs ?? 0,
      Date.now(),
      finishedTail(response, outcome.error),
      orgId,
      own,
    );
    const [bytes, callback] = reply;
    if (bytes < 0) return "ended-before";
    await this.releases.add(orgId, { callId, bytes });
    return callback === 1 ? "callback" : "finished";
  }
}

// KEYS: a lane's unreleased notes. ARGV: before (ms). Takes the notes older than that: {calls, bytes, notes left}.
const CLAIM_UNRELEASED = `
local notes = redis.call('HGETALL', KEYS[1])
local calls, bytes = 0, 0
for i = 1, #notes, 2 do
  local at, size = string.match(notes[i + 1], '^(%d+) (%d+)$')
  if tonumber(at) < tonumber(ARGV[1]) then
    redis.call('HDEL', KEYS[1], notes[i])
    calls = calls + 1
    bytes = bytes + tonumber(size)
  end
end
return {calls, bytes, #notes / 2 - calls}
`;

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

// KEYS: job, finished record. A call no worker took yet becomes a rolled-back job, which workers and readers skip:
// 1. 1 too for a job never written; 0 for a call taken (being sent, or ended: its job may be gone already).
const ROLL_BACK = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 1 - redis.call('EXISTS', KEYS[2]) end
if redis.call('HGET', KEYS[1], '${JOB_FIELDS.state}') then return 0 end
redis.call('HSET', KEYS[1], '${JOB_FIELDS.state}', '${ROLLED_BACK}')
return 1
`;

// KEYS: job, finished record, lane stats, backoff of the call's pause, callback, lane's callback outbox, replay,
// lane's unreleased calls (until its org's count frees the call: see Reconciler).
// ARGV: sent (1: the call was sent, its success ends the backoff), ttlMs, final state, latency field or '', latency
// ms, completedAt, the record's tail (finishedTail), org, the call's own id. Builds the finished record (see
// call-record.ts) from the job's name (jobName: method, URL, bytes, callbackUrl, replayOf, other limiting lanes),
// timestamp and fields;
// cjson writes '/' as '\\/', which is undone in the URL. Returns {the bytes the call held, 1 if it has a callback to
// deliver}, or {-1, 0} if the call had ended already or is not a call.
const FINISH = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1, 0} end
local job = redis.call('HMGET', KEYS[1], '${JOB_FIELDS.state}', 'name', 'timestamp', '${JOB_FIELDS.attempts}', '${JOB_FIELDS.sentAt}')
if job[1] and job[1] ~= 'sending' then return {-1, 0} end
local method, url, bytes, rest = string.match(job[2] or '', '^(%S+) (%S+) (%d+)(.*)$')
bytes = bytes or '0'
local callbackUrl, replayOf, also = string.match(rest or '', '^ (%S+) (%S+) ?(%S*)$')
redis.call('HSET', KEYS[1], '${JOB_FIELDS.state}', ARGV[3])
redis.call('HSET', KEYS[8], ARGV[9], ARGV[6] .. ' ' .. bytes)
local replayed, limited = 'null', 'null'
if replayOf and replayOf ~= '-' then replayed = '"' .. replayOf .. '"' end
if also and also ~= '' and also ~= '-' then limited = '"' .. also .. '"' end
local record = '["' .. ARGV[3] .. '",' .. (job[4] or '0') .. ',' .. (job[3] or '0') .. ',' .. (job[5] or 'null') .. ',' ..
  ARGV[6] .. ',' .. cjson.encode(method or '') .. ',' .. string.gsub(cjson.encode(url or ''), '\\\\/', '/') .. ARGV[7] ..
  ',' .. replayed .. ',' .. limited .. ']'
redis.call('SET', KEYS[2], record, 'PX', ARGV[2])
redis.call('HINCRBY', KEYS[3], ARGV[3], 1)
if ARGV[4] ~= '' then
  redis.call('HINCRBY', KEYS[3], ARGV[4], 1)
  redis.call('HINCRBYFLOAT', KEYS[3], 'latency:sum', ARGV[5])
end
if ARGV[1] == '1' and ARGV[3] == 'succeeded' then redis.call('DEL', KEYS[4]) end
if ARGV[3] ~= 'succeeded' then
  local data = redis.call('HGET', KEYS[1], 'data')
  if data then redis.call('SET', KEYS[7], data, 'PX', ARGV[2]) end
end
if callbackUrl and callbackUrl ~= '-' then
  redis.call('HSET', KEYS[5], 'url', callbackUrl, 'org', ARGV[8], 'state', 'pending', 'attempts', 0, 'since', ARGV[6])
  redis.call('PEXPIRE', KEYS[5], ARGV[2])
  redis.call('ZADD', KEYS[6], ARGV[6], ARGV[9])
  return {tonumber(bytes), 1}
end
return {tonumber(bytes), 0}
`;

type RedisWithScripts = RedisClient & {
  sluiceFinishCall(...args: (string | number)[]): Promise<[number, number]>;
  sluiceRequeueCall(key: string): Promise<number>;
  sluiceSaveSpent(key: string, spentMs: number): Promise<number>;
  sluiceRollBackCall(job: string, record: string): Promise<number>;
};
