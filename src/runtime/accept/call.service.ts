import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Redis } from "ioredis";
import type { Db } from "../../db/prisma.js";
import type { RuntimeVersion } from "../../generated/prisma/client.js";
import { ApiError } from "../../shared/errors/api-error.js";
import type { Principal } from "../../tenancy/principal.js";
import { hashToken } from "../../tenancy/token.js";
import { MAX_CALL_BODY_BYTES, type AcceptedCall, type CallRequest } from "./call.schema.js";
import type { CallStore, NewCall } from "../call-store.js";
import { UNTHROTTLED, type Lane, type RuntimeKeys } from "../keys.js";
import type { CallJob, RuntimeQueues } from "../queues.js";
import type { RuntimeSettings } from "../settings.js";
import { compileMatcher } from "./url-match.js";

/**
 * The dispatcher handles the call's own retries; BullMQ's attempts only cover a dispatch that crashed
 * (e.g. Redis briefly unreachable), which then resumes from the record. Finished jobs are removed by the
 * worker's options, which keeps these (stored with every job) short.
 */
const JOB_OPTIONS = (callId: string) => ({ jobId: callId, attempts: 5, backoff: 1000 });
const IDEMPOTENCY_TTL_MS = 30 * 60 * 60 * 1000;
/**
 * How long a key stays claimed by a submission still being accepted. A repeat waits for that submission meanwhile;
 * if its process died half-way, the claim lapses and the repeat is accepted as a first submission.
 */
const IDEMPOTENCY_PENDING_TTL_MS = 30_000;
const REPLAY_POLL_MS = 20;
const RETRY_AFTER_FULL_SECONDS = "30";

// KEYS: org queued counter. ARGV: n, max. Reserves n slots or none.
const RESERVE_CAPACITY = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current + tonumber(ARGV[1]) > tonumber(ARGV[2]) then return -1 end
return redis.call('INCRBY', KEYS[1], ARGV[1])
`;

type Matched = { lane: Lane; version?: RuntimeVersion };
/** What an Idempotency-Key stands for: the callIds of its first submission, and whether that one was accepted. */
type IdempotencyEntry = { callIds: string[]; accepted: boolean };

function serializeBody(call: CallRequest): { body?: string; headers: Record<string, string> } {
  const headers = { ...call.headers };
  if (call.body === undefined) return { headers };
  if (typeof call.body === "string") return { body: call.body, headers };
  const hasContentType = Object.keys(headers).some((name) => name.toLowerCase() === "content-type");
  return { body: JSON.stringify(call.body), headers: hasContentType ? headers : { ...headers, "content-type": "application/json" } };
}

/**
 * Accepts outbound calls: matches each against the org's active runtime version, reserves queue capacity,
 * writes the records and enqueues the jobs. All or nothing per request.
 */
export class CallService {
  constructor(
    private readonly db: Db,
    private readonly redis: Redis,
    private readonly keys: RuntimeKeys,
    private readonly queues: RuntimeQueues,
    private readonly records: CallStore,
    private readonly settings: RuntimeSettings,
  ) {
    redis.defineCommand("sluiceReserveCapacity", { numberOfKeys: 1, lua: RESERVE_CAPACITY });
  }

  async accept(principal: Principal, calls: CallRequest[], idempotencyKey?: string): Promise<AcceptedCall[]> {
    const prepared = calls.map((call) => ({ call, ...serializeBody(call) }));
    if (prepared.some((p) => p.body !== undefined && Buffer.byteLength(p.body) > MAX_CALL_BODY_BYTES)) {
      throw new ApiError("PAYLOAD_TOO_LARGE", { message: "a call body exceeds the 1 MB limit" });
    }
    const callIds = calls.map(() => randomUUID());
    // Hashed like tokens: a bounded key length, and the caller's value never sits in Redis as given.
    const idemKey = idempotencyKey ? this.keys.idempotency(principal.orgId, hashToken(idempotencyKey)) : undefined;
    if (idemKey) {
      const pending: IdempotencyEntry = { callIds, accepted: false };
      const claimed = await this.redis.set(idemKey, JSON.stringify(pending), "PX", IDEMPOTENCY_PENDING_TTL_MS, "NX");
      if (!claimed) return this.replay(principal, calls, idempotencyKey!, idemKey);
    }
    try {
      return await this.enqueue(principal, prepared, callIds, idempotencyKey, idemKey);
    } catch (error) {
      if (idemKey) await this.redis.del(idemKey);
      throw error;
    }
  }

  async get(orgId: string, callId: string) {
    const stored = await this.records.get(callId);
    if (!stored || stored.orgId !== orgId) throw new ApiError("CALL_NOT_FOUND", { context: `callId ${callId}` });
    return stored.record;
  }

  private async enqueue(
    principal: Principal,
    prepared: { call: CallRequest; body?: string; headers: Record<string, string> }[],
    callIds: string[],
    idempotencyKey: string | undefined,
    idemKey: string | undefined,
  ): Promise<AcceptedCall[]> {
    const matchOf = await this.matcherFor(principal.orgId);
    const reserved = await (this.redis as RedisWithCapacity).sluiceReserveCapacity(
      this.keys.orgQueued(principal.orgId),
      prepared.length,
      this.settings.maxQueuedPerOrg,
    );
    if (reserved < 0) {
      throw new ApiError("QUEUE_FULL", { headers: { "Retry-After": RETRY_AFTER_FULL_SECONDS } });
    }
    const acceptedAt = Date.now();
    const jobs = prepared.map(({ call, body, headers }, i) => {
      const { lane, version } = matchOf(call);
      const record: NewCall = {
        callId: callIds[i]!,
        orgId: principal.orgId,
        method: call.method,
        url: call.url,
        throttled: lane.kind === "throttled",
        ...(version ? { throttlingConfigUid: version.configUid ?? undefined, runtimeVersionId: version.id, runtimeVersion: version.version } : {}),
        acceptedAt,
      };
      const forwarded = idempotencyKey ? { ...headers, "Idempotency-Key": idempotencyKey } : headers;
      const data: CallJob = {
        orgId: principal.orgId,
        method: call.method,
        url: call.url,
        ...(Object.keys(forwarded).length ? { headers: forwarded } : {}),
        ...(body !== undefined ? { body } : {}),
        timeoutMs: call.timeoutMs,
        ...(call.callbackUrl ? { callbackUrl: call.callbackUrl } : {}),
      };
      return { record, lane, data };
    });

    try {
      // Records and jobs are written without waiting for each other. The records are written first on the same
      // connection, and Redis runs one connection's commands in order, so no worker can take a job before its record
      // exists. A job whose record write failed is skipped by the worker.
      await Promise.all([
        this.records.create(jobs.map(({ record }) => record)),
        ...[...groupByLane(jobs)].map(([lane, group]) =>
          this.queues.get(lane).addBulk(group.map(({ record, data }) => ({ name: "call", data, opts: JOB_OPTIONS(record.callId) }))),
        ),
      ]);
      if (idemKey) {
        const done: IdempotencyEntry = { callIds, accepted: true };
        await this.redis.set(idemKey, JSON.stringify(done), "PX", IDEMPOTENCY_TTL_MS);
      }
    } catch (error) {
      // Nothing accepted half-way: give the capacity back and forget the records (an already-added job
      // finds no record and is skipped by the worker).
      await this.redis
        .multi()
        .decrby(this.keys.orgQueued(principal.orgId), prepared.length)
        .del(...jobs.map((j) => this.keys.call(j.record.callId)))
        .exec();
      throw error;
    }
    return jobs.map(({ record }) => accepted(record));
  }

  /** The org's active runtime version decides, per call, between its throttled queue and the unthrottled one. */
  private async matcherFor(orgId: string): Promise<(call: CallRequest) => Matched> {
    const version = await this.db.runtimeVersion.findFirst({ where: { orgId, status: "active" } });
    if (!version) return () => ({ lane: UNTHROTTLED });
    const matches = compileMatcher(version.urlPattern, version.methods);
    const lane: Lane = { kind: "throttled", runtimeVersionId: version.id };
    return (call) => (matches(call.method, new URL(call.url)) ? { lane, version } : { lane: UNTHROTTLED });
  }

  /**
   * A repeated Idempotency-Key answers with the first submission's calls, once that submission was accepted.
   * While it is being accepted, wait; if it was refused (its key is gone), this submission counts as the first.
   */
  private async replay(principal: Principal, calls: CallRequest[], idempotencyKey: string, idemKey: string): Promise<AcceptedCall[]> {
    const orgId = principal.orgId;
    let entry: IdempotencyEntry;
    for (;;) {
      const stored = await this.redis.get(idemKey);
      if (stored === null) return this.accept(principal, calls, idempotencyKey);
      entry = JSON.parse(stored) as IdempotencyEntry;
      if (entry.callIds.length !== calls.length) {
        throw new ApiError("IDEMPOTENCY_MISMATCH", { context: `the key was first used for ${entry.callIds.length} call(s)` });
      }
      if (entry.accepted) break;
      await sleep(REPLAY_POLL_MS);
    }
    return Promise.all(
      entry.callIds.map(async (callId) => {
        const stored = await this.records.get(callId);
        if (!stored || stored.orgId !== orgId) return { callId, state: "queued" as const, throttled: false };
        return accepted(stored.record, stored.record.state);
      }),
    );
  }
}

function accepted(
  record: Pick<NewCall, "callId" | "throttled" | "throttlingConfigUid" | "runtimeVersion">,
  state: AcceptedCall["state"] = "queued",
): AcceptedCall {
  return {
    callId: record.callId,
    state,
    throttled: record.throttled,
    ...(record.throttlingConfigUid ? { throttlingConfigUid: record.throttlingConfigUid } : {}),
    ...(record.runtimeVersion !== undefined ? { runtimeVersion: record.runtimeVersion } : {}),
  };
}

function groupByLane<T extends { lane: Lane }>(jobs: T[]): Map<Lane, T[]> {
  const byName = new Map<string, { lane: Lane; jobs: T[] }>();
  for (const job of jobs) {
    const name = job.lane.kind === "throttled" ? job.lane.runtimeVersionId : "";
    const group = byName.get(name) ?? { lane: job.lane, jobs: [] };
    group.jobs.push(job);
    byName.set(name, group);
  }
  return new Map([...byName.values()].map((g) => [g.lane, g.jobs]));
}


type RedisWithCapacity = Redis & { sluiceReserveCapacity(...args: (string | number)[]): Promise<number> };
