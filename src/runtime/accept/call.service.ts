import { setTimeout as sleep } from "node:timers/promises";
import type { EgressPolicy } from "../../egress/policy.js";
import { ApiError } from "../../shared/errors/api-error.js";
import type { Principal } from "../../tenancy/principal.js";
import { replicatedToOne } from "../../shared/redis.js";
import { hashToken } from "../../tenancy/token.js";
import {
  acceptedCall,
  DEFAULT_CALL_TIMEOUT_MS,
  MAX_CALL_BODY_BYTES,
  REPLAYABLE_STATES,
  type AcceptedCall,
  type CallList,
  type CallListQuery,
  type CallRecord,
  type CallRequest,
} from "./call.schema.js";
import { decodeCursor, encodeCursor } from "./list-cursor.js";
import { describeLimits } from "../call-record.js";
import { laneId, newCallId, splitCallId, type Lane, type LimitedLane } from "../keys.js";
import { jobName, type CallJob } from "../queues.js";
import type { RuntimeSettings } from "../settings.js";
import type { RuntimeStores } from "../runtime-stores.js";
import type { CallbackOutbox } from "../callbacks/callback-outbox.js";
import { queueFull, rejectedCalls, type CallProblem } from "./call-errors.js";
import type { OrgCache, OrgChangeFeed } from "../../tenancy/org-changes.js";
import { loadOrgLimits, type Matched, type OrgLimits } from "./limit-match.js";

/**
 * The dispatcher handles the call's own retries; BullMQ's attempts only cover a dispatch that crashed
 * (e.g. Redis unreachable, or a cluster failing over), which then resumes from the record: 1 s, doubling, about
 * two minutes in all before the call is given up as failed. Finished jobs are removed by the worker's options,
 * which keeps these (stored with every job) short. The job's id is the call's own id.
 */
const JOB_OPTIONS = (callId: string) => ({ jobId: splitCallId(callId)[1], attempts: 8, backoff: { type: "exponential", delay: 1000 } });
const IDEMPOTENCY_TTL_MS = 30 * 60 * 60 * 1000;
/**
 * How long a key stays claimed by a submission still being accepted. A repeat waits for that submission meanwhile;
 * if its process died half-way, the claim lapses and the repeat is accepted as a first submission.
 */
const IDEMPOTENCY_PENDING_TTL_MS = 30_000;
const REPLAY_POLL_MS = 20;
/** Calls a listing filtered by state looks at per request, and reads at a time. */
const LIST_SCAN = 5000;
const LIST_PAGE = 500;
/** How long accepted calls may wait for a replica's acknowledgement before the submission is refused. */
const REPLICA_ACK_TIMEOUT_MS = 1000;

const notReplicated = () =>
  new ApiError("DEPENDENCY_UNAVAILABLE", {
    message: "Redis did not confirm the calls on a replica in time (a failover?): nothing was queued; retry later",
    headers: { "Retry-After": "1" },
  });

type Prepared = { call: CallRequest; body?: string; headers: Record<string, string>; bytes: number } & Matched;
/** What an Idempotency-Key stands for: the callIds of its first submission, and whether that one was accepted. */
type IdempotencyEntry = { callIds: string[]; accepted: boolean };

/** What a queued call counts against its org's byte budget (CONTRACT §11): method, URL, headers and body. */
function queuedBytes(method: string, url: string, headers: Record<string, string>, body: string | undefined): number {
  let bytes = method.length + Buffer.byteLength(url) + (body === undefined ? 0 : Buffer.byteLength(body));
  for (const [name, value] of Object.entries(headers)) bytes += Buffer.byteLength(name) + Buffer.byteLength(value);
  return bytes;
}

function serializeBody(call: CallRequest): { body?: string; headers: Record<string, string> } {
  const headers = { ...call.headers };
  if (call.body === undefined) return { headers };
  if (typeof call.body === "string") return { body: call.body, headers };
  const hasContentType = Object.keys(headers).some((name) => name.toLowerCase() === "content-type");
  return { body: JSON.stringify(call.body), headers: hasContentType ? headers : { ...headers, "content-type": "application/json" } };
}

export interface CallServiceDeps extends RuntimeStores {
  callbacks: CallbackOutbox;
  egress: EgressPolicy;
  settings: RuntimeSettings;
  /** Drops an org's cached limits when a deploy, update or undeploy of its configs is announced. */
  orgChanges: OrgChangeFeed;
}

/** A submission: its calls (one, or a batch's) and the Idempotency-Key it came with. */
export interface Submission {
  calls: CallRequest[];
  /** Whether it came as a batch: problems are then reported as `calls.<i>.<field>`. */
  batch: boolean;
  idempotencyKey?: string;
  /** The call it sends again (a replay). */
  replayOf?: string;
}

/**
 * Accepts outbound calls: checks their hosts against the egress policy, matches each against the org's active
 * runtime version, reserves queue capacity (calls and bytes) and enqueues the jobs (each holds its call's record).
 * All or nothing per request.
 */
export class CallService {
  /** Each org's deployed limits, read from Postgres once per org change rather than per submission. */
  private readonly orgLimits: OrgCache<OrgLimits>;

  constructor(private readonly deps: CallServiceDeps) {
    this.orgLimits = deps.orgChanges.cache("deploys");
  }

  async accept(principal: Principal, submission: Submission): Promise<AcceptedCall[]> {
    const { calls, idempotencyKey } = submission;
    this.refuseDeniedHosts(submission);
    const { orgId } = principal;
    const limits = (await this.orgLimits.get(orgId, async () => ({ orgId, value: await loadOrgLimits(this.deps.db, orgId) })))!;
    const prepared = calls.map((call, i): Prepared => {
      const serialized = serializeBody(call);
      // CONTRACT §10: each call of a batch forwards its own key, or a target honouring it would drop calls 2..N.
      const forwardedKey = idempotencyKey && (submission.batch ? `${idempotencyKey}:${i}` : idempotencyKey);
      const headers = forwardedKey ? { ...serialized.headers, "Idempotency-Key": forwardedKey } : serialized.headers;
      return { call, ...serialized, headers, bytes: queuedBytes(call.method, call.url, headers, serialized.body), ...limits.match(call) };
    });
    if (prepared.some((p) => p.body !== undefined && Buffer.byteLength(p.body) > MAX_CALL_BODY_BYTES)) {
      throw new ApiError("PAYLOAD_TOO_LARGE", { message: "a call body exceeds the 1 MB limit" });
    }
    // A call's id names its lane, so its record is found in the lane's slot from the id alone.
    const callIds = prepared.map(({ lane }) => newCallId(lane));
    // Hashed like tokens: a bounded key length, and the caller's value never sits in Redis as given.
    const idemKey = idempotencyKey ? this.deps.keys.idempotency(principal.orgId, hashToken(idempotencyKey)) : undefined;
    if (idemKey) {
      const pending: IdempotencyEntry = { callIds, accepted: false };
      const claimed = await this.deps.redis.set(idemKey, JSON.stringify(pending), "PX", IDEMPOTENCY_PENDING_TTL_MS, "NX");
      if (!claimed) return this.repeated(principal, submission, idemKey);
    }
    try {
      return await this.enqueue(principal, prepared, callIds, idemKey, submission.replayOf, limits);
    } catch (error) {
      if (idemKey) await this.deps.redis.del(idemKey);
      throw error;
    }
  }

  async get(orgId: string, callId: string): Promise<CallRecord> {
    const record = await this.deps.records.get(callId, orgId);
    if (!record) throw new ApiError("CALL_NOT_FOUND", { context: `callId ${callId}` });
    return record;
  }

  /**
   * Sends a failed, expired or dropped call again as a new call (CONTRACT §10): the same request (method, URL,
   * headers, body, timeoutMs, callbackUrl), matched, checked and limited like any new call, naming the call it replays.
   */
  async replay(principal: Principal, callId: string): Promise<AcceptedCall> {
    const record = await this.get(principal.orgId, callId);
    if (!REPLAYABLE_STATES.includes(record.state)) {
      throw new ApiError("CALL_NOT_REPLAYABLE", { context: `call ${callId} is ${record.state}` });
    }
    const kept = await this.deps.records.replayable(callId);
    if (!kept) throw new ApiError("CALL_NOT_REPLAYABLE", { context: `call ${callId}: its request is no longer kept` });
    const { headers, body, timeoutMs } = kept.data;
    const call: CallRequest = {
      method: record.method,
      url: record.url,
      timeoutMs: timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS,
      ...(headers ? { headers } : {}),
      ...(body !== undefined ? { body } : {}),
      ...(kept.callbackUrl ? { callbackUrl: kept.callbackUrl } : {}),
    };
    const [accepted] = await this.accept(principal, { calls: [call], batch: false, replayOf: callId });
    return { ...accepted!, replayOf: callId };
  }

  /**
   * The org's call records, newest first, `limit` at most, from `cursor` on (CONTRACT §10). With a `state`, a page
   * looks at up to LIST_SCAN calls: it may hold fewer than `limit` records and still have a `nextCursor`.
   */
  async list(orgId: string, query: CallListQuery): Promise<CallList> {
    let after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const found: CallRecord[] = [];
    for (let scanned = 0; scanned < LIST_SCAN; ) {
      const want = query.state ? LIST_PAGE : query.limit - found.length;
      const page = await this.deps.budget.listed(orgId, want, after);
      const records = await this.deps.records.getMany(page.map((entry) => entry.callId), orgId);
      for (const [i, entry] of page.entries()) {
        after = entry.at;
        const record = records[i];
        if (!record || (query.state && record.state !== query.state)) continue;
        found.push(record);
        if (found.length === query.limit) return { calls: found, nextCursor: encodeCursor(after) };
      }
      if (page.length < want) return { calls: found };
      scanned += page.length;
    }
    return { calls: found, ...(after ? { nextCursor: encodeCursor(after) } : {}) };
  }

  /**
   * CONTRACT §9: a URL whose host is an IP literal or `localhost` that the egress policy denies is refused now;
   * any other host is checked when it is connected to.
   */
  private refuseDeniedHosts({ calls, batch }: Submission): void {
    const problems: CallProblem[] = [];
    // A batch usually targets few hosts: each is judged once.
    const byOrigin = new Map<string, string | undefined>();
    const refusalOf = (text: string): string | undefined => {
      const url = new URL(text);
      if (!byOrigin.has(url.origin)) byOrigin.set(url.origin, this.deps.egress.refusal(url));
      return byOrigin.get(url.origin);
    };
    calls.forEach((call, i) => {
      for (const field of ["url", "callbackUrl"] as const) {
        const refusal = call[field] === undefined ? undefined : refusalOf(call[field]);
        if (refusal) problems.push({ path: batch ? `calls.${i}.${field}` : field, message: refusal });
      }
    });
    if (problems.length) throw rejectedCalls(problems);
  }

  private async enqueue(
    principal: Principal,
    prepared: Prepared[],
    callIds: string[],
    idemKey: string | undefined,
    replayOf: string | undefined,
    limits: OrgLimits,
  ): Promise<AcceptedCall[]> {
    const { orgId } = principal;
    const { maxQueuedPerOrg, maxQueuedBytesPerOrg } = this.deps.settings;
    const capacity = { maxCalls: maxQueuedPerOrg, maxBytes: maxQueuedBytesPerOrg };
    // The callback registry first: a call that ends with a callback is in a lane the deliverers look at.
    const withCallback = prepared.flatMap(({ call, lane }) => (call.callbackUrl ? [laneId(lane)] : []));
    if (withCallback.length) await this.deps.callbacks.touch(new Set(withCallback));
    const budgeted = prepared.map(({ bytes }, i) => ({ callId: callIds[i]!, bytes }));
    const reserved = await this.deps.budget.reserve(orgId, budgeted, capacity);
    if (reserved === "too-many-calls") throw queueFull({ setting: "RUNTIME_MAX_QUEUED_PER_ORG", max: maxQueuedPerOrg, unit: "calls" });
    if (reserved === "too-many-bytes") throw queueFull({ setting: "RUNTIME_MAX_QUEUED_BYTES_PER_ORG", max: maxQueuedBytesPerOrg, unit: "bytes" });
    const jobs = prepared.map(({ call, body, headers, bytes, lane, alsoLimitedBy }, i) => {
      const callId = callIds[i]!;
      const data: CallJob = {
        orgId,
        ...(Object.keys(headers).length ? { headers } : {}),
        ...(body !== undefined ? { body } : {}),
        ...(call.timeoutMs !== DEFAULT_CALL_TIMEOUT_MS ? { timeoutMs: call.timeoutMs } : {}),
      };
      const name = jobName({ method: call.method, url: call.url, bytes, callbackUrl: call.callbackUrl, replayOf, alsoLimitedBy });
      return { lane, alsoLimitedBy, job: { name, data, opts: JOB_OPTIONS(callId) } };
    });

    try {
      // The infos of the lanes the calls' records name are written alongside the jobs: a record is read only once
      // its call was accepted. The lane registry is touched alongside too: a worker opens a freshly touched lane
      // without looking for jobs, and never closes one touched in the last minute, so the touch may land before the
      // jobs do.
      const lanes = groupByLane(jobs);
      const named = new Map(jobs.flatMap(({ lane, alsoLimitedBy }) => [...limitedLanes(lane), ...alsoLimitedBy]).map((lane) => [laneId(lane), lane]));
      await Promise.all([
        ...[...lanes].map(([lane, group]) => this.deps.queues.add(lane, group.map(({ job }) => job))),
        ...[...named.values()].map((lane) => this.deps.records.saveLaneInfo(lane, limits.infoOf(lane))),
        ...([...lanes.keys()].some((lane) => lane.kind === "unthrottled") ? [this.deps.unthrottled.touch(orgId)] : []),
      ]);
      // On a cluster with replicas, a call is acknowledged only once a replica holds it: a failover right after
      // the 202 must not lose it.
      const queueKeys = [...lanes.keys()].map((lane) => this.deps.keys.queueKey(lane, "wait"));
      if (!(await replicatedToOne(this.deps.redis, queueKeys, REPLICA_ACK_TIMEOUT_MS))) throw notReplicated();
      if (idemKey) {
        const done: IdempotencyEntry = { callIds, accepted: true };
        await this.deps.redis.set(idemKey, JSON.stringify(done), "PX", IDEMPOTENCY_TTL_MS);
      }
    } catch (error) {
      // Nothing accepted half-way: roll the calls back (a job already written stays until a worker or the sweeper
      // removes it, and is never sent) and give their room back. A call a worker already took cannot be rolled back:
      // it keeps its room until it ends. If this process dies before, the reconciler finds the reservation unsettled.
      const rolledBack = await this.deps.records.rollBack(callIds);
      await this.deps.budget.releaseReserved(orgId, callIds.filter((_, i) => rolledBack[i]));
      await this.settle(orgId, callIds);
      throw error;
    }
    await this.settle(orgId, callIds);
    return jobs.map(({ lane, alsoLimitedBy }, i) => accepted(callIds[i]!, [...limitedLanes(lane), ...alsoLimitedBy], limits));
  }

  /** Ends the calls' reservation; if that fails, the reconciler ends it (the calls are accepted or refused already). */
  private async settle(orgId: string, callIds: string[]): Promise<void> {
    await this.deps.budget.settled(orgId, callIds).catch(() => undefined);
  }

  /**
   * A repeated Idempotency-Key answers with the first submission's calls, once that submission was accepted.
   * While it is being accepted, wait; if it was refused (its key is gone), this submission counts as the first.
   */
  private async repeated(principal: Principal, submission: Submission, idemKey: string): Promise<AcceptedCall[]> {
    const orgId = principal.orgId;
    let entry: IdempotencyEntry;
    for (;;) {
      const stored = await this.deps.redis.get(idemKey);
      if (stored === null) return this.accept(principal, submission);
      entry = JSON.parse(stored) as IdempotencyEntry;
      if (entry.callIds.length !== submission.calls.length) {
        throw new ApiError("IDEMPOTENCY_MISMATCH", { context: `the key was first used for ${entry.callIds.length} call(s)` });
      }
      if (entry.accepted) break;
      await sleep(REPLAY_POLL_MS);
    }
    return Promise.all(
      entry.callIds.map(async (callId): Promise<AcceptedCall> => {
        const record = await this.deps.records.get(callId, orgId);
        // The record's fields an acceptance shows (the schema drops the rest).
        return record ? acceptedCall.parse(record) : { callId, state: "queued", throttled: false };
      }),
    );
  }
}

function accepted(callId: string, lanes: LimitedLane[], limits: OrgLimits): AcceptedCall {
  return { callId, state: "queued", ...describeLimits(lanes.map((lane) => ({ lane, info: limits.infoOf(lane) }))) };
}

/** The lane itself if its limits are a config's (throttled or capped). */
const limitedLanes = (lane: Lane): LimitedLane[] => (lane.kind === "unthrottled" ? [] : [lane]);

function groupByLane<T extends { lane: Lane }>(jobs: T[]): Map<Lane, T[]> {
  const byName = new Map<string, { lane: Lane; jobs: T[] }>();
  for (const job of jobs) {
    const name = laneId(job.lane);
    const group = byName.get(name) ?? { lane: job.lane, jobs: [] };
    group.jobs.push(job);
    byName.set(name, group);
  }
  return new Map([...byName.values()].map((g) => [g.lane, g.jobs]));
}

