import { createHash } from "node:crypto";
import { pooledRandomBytes } from "../shared/random-pool.js";
import type { CappingService } from "./capping-runtimes.js";

/**
 * Every Redis key the runtime owns, in one place. All live under REDIS_PREFIX, and every key that a script or a
 * transaction touches together carries the same Redis Cluster hash tag (CONTRACT §13), so each runs in one slot:
 * - a lane's tag (`laneId`): its BullMQ queue `<prefix>:bull:{<lane>}:*`, whose job `<id>` is a queued call and
 *   its record, its state `<prefix>:rt:{<lane>}:lane:*` (pacing, pauses, counters, a capped lane's window and
 *   connection leases), what its calls' records name (`:info`, throttled and capped lanes) and the records of its finished calls `<prefix>:rt:{<lane>}:call:<id>`; a call's id is
 *   `<lane id>.<id>`, so both are found from the call's id alone. For a call that ended, also its callback
 *   (`:callback:<id>`, and the lane's outbox `:callbacks`), unless it succeeded its request for a replay
 *   (`:replay:<id>`), and until its org's count frees it a note in `:unreleased`;
 * - an org's tag: its queued-call and byte counters, its reservations, the lists of its calls and its idempotency
 *   keys, `<prefix>:rt:{o-<org>}:*`, updated apart from the lane scripts;
 * - the rest (the registries of lanes and orgs, locks, heartbeats) are single keys.
 * A drained runtime version's queue and lane state are deleted by pattern; its finished calls' records and its info
 * stay their 24 h.
 */
export interface RuntimeKeys {
  readonly bullPrefix: string;
  /** The lane's BullMQ queue name: its id in braces, the hash tag of every BullMQ key of the queue. */
  queueName(lane: Lane): string;
  /** One of the lane's BullMQ keys (`wait`, `meta`, or a job id). */
  queueKey(lane: Lane, type: string): string;
  /** GCRA state of a throttled or capped lane. */
  tat(lane: LimitedLane): string;
  /** Send times of the last second of a throttled lane (the hard sliding-window check). */
  sendLog(runtimeVersionId: string): string;
  /** Calls per second a throttled or capped lane is paced to (written on deploy/update, read by the pacer). */
  rate(lane: LimitedLane): string;
  /**
   * Until when calls are paused by a 429/503 (ms since epoch): a throttled lane as a whole, an unthrottled lane
   * per origin (CONTRACT §6: pauses of the unthrottled queue belong to (org, origin)).
   */
  pause(lane: Lane, origin: string): string;
  /** How many header-less 429/503 answers in a row the pause above has seen (its backoff exponent). */
  backoff(lane: Lane, origin: string): string;
  stats(lane: Lane): string;
  sentInSecond(lane: Lane, epochSecond: number): string;
  /** A capped lane's sends in its sliding window (see shared/sliding-window.ts). */
  window(lane: CappedLane): string;
  /** A capped lane's connections in use (ZSET: send id → when its lease lapses, ms). */
  leases(lane: CappedLane): string;
  /** SCAN patterns of everything a drained throttled or capped lane leaves but its call records and info. */
  lanePatterns(lane: LimitedLane): string[];
  /** A queued (or sending) call: its BullMQ job, which holds its record until it ends. */
  job(callId: string): string;
  /** A finished call's record, in its lane's slot. */
  call(callId: string): string;
  /** What the records of a throttled or capped lane's calls name: its org, config and version (see CallStore). */
  laneInfo(lane: LimitedLane): string;
  /** How many calls the org has queued (or being sent), and their bytes (CONTRACT §6, §11). */
  orgQueued(orgId: string): string;
  orgQueuedBytes(orgId: string): string;
  /** The org's calls accepted in one hour (LIST of `<lane alias>.<own id>`, oldest first), for listing. */
  orgCalls(orgId: string, hour: number): string;
  /** Short aliases of the org's lanes, both ways (HASH `l:<lane id>` → alias, `a:<alias>` → lane id, `next`). */
  orgLaneAliases(orgId: string): string;
  /** Orgs that may have non-terminal calls (ZSET: org → last acceptance ms): the reconciler's scope. */
  liveOrgs(): string;
  /** Calls whose room is reserved and whose jobs may not be written yet (HASH: call id → `<reserved at ms> <bytes>`). */
  orgReserving(orgId: string): string;
  /** The lanes the org's calls joined (ZSET: lane id → last acceptance ms): where its unreleased calls may be. */
  orgLanes(orgId: string): string;
  /** A lane's ended calls not yet freed in their org's count (HASH: the call's own id → `<ended at ms> <bytes>`). */
  unreleased(laneId: string): string;
  /** A finished call's callback: its URL, org, state, attempts and last status (HASH). */
  callback(callId: string): string;
  /** A lane's callbacks to deliver (ZSET: the call's own id → when its next attempt is due, ms). */
  callbackOutbox(laneId: string): string;
  /** Lanes that may have callbacks to deliver (ZSET: lane id → when a call with a callback last joined it). */
  callbackLanes(): string;
  /** What is needed to send a failed, expired or dropped call again: its job's data, kept as long as its record. */
  replay(callId: string): string;
  /** Orgs with an unthrottled lane, scored by when a call last joined it (ms): where the workers look for work. */
  unthrottledLanes(): string;
  idempotency(orgId: string, keyHash: string): string;
  /** Sends in progress, as each worker process last published them (HASH: worker id → `{at, lanes: {lane id: n}}`). */
  inFlight(): string;
  lock(name: string): string;
  /**
   * An org's API requests of one class in the last minute (CONTRACT §7), each in its own slot; a window kept in
   * buckets of another size (or exactly, 0) is another key, so a plan change never reads one as the other.
   */
  apiRequests(orgId: string, limitClass: string, bucketMs: number): string;
  /** Failed authentications from one client address in the last minute. */
  failedAuths(address: string): string;
  /** The pub/sub channel on which a change to an org (credentials, plan, limits, deploys) is announced. */
  orgChanges(): string;
}

export type ThrottledLane = { kind: "throttled"; runtimeVersionId: string };
export type UnthrottledLane = { kind: "unthrottled"; orgId: string };
/** The calls of one service of a deployed capping config (CONTRACT §12). */
export type CappedLane = { kind: "capped"; cappingRuntimeId: string; service: CappingService };
/**
 * Where a call waits: the queue of a throttling runtime version (throttled), of a capping config's service (capped),
 * or its org's unthrottled queue.
 */
export type Lane = ThrottledLane | CappedLane | UnthrottledLane;
/** A lane whose calls obey a config's limits. */
export type LimitedLane = ThrottledLane | CappedLane;

export const throttledLane = (runtimeVersionId: string): ThrottledLane => ({ kind: "throttled", runtimeVersionId });
export const unthrottledLane = (orgId: string): UnthrottledLane => ({ kind: "unthrottled", orgId });
export const cappedLane = (cappingRuntimeId: string, service: CappingService): CappedLane => ({ kind: "capped", cappingRuntimeId, service });

/**
 * An org id, reduced to 128 bits: a fixed-length, brace-free hash tag whatever characters the id holds. Orgs are
 * never told apart by it, only spread over slots and named in keys.
 */
const orgDigest = (orgId: string): string => createHash("sha256").update(orgId).digest("base64url").slice(0, 22);

const SERVICE_SUFFIX: Record<CappingService, string> = { action: "a", dataSource: "d" };

/**
 * A lane's id, unique per lane, and its hash tag: `rv-<runtime version id>`, `cp-<capping runtime id>-<a|d>` or
 * `u-<org digest>`. It names the lane in keys, queue names and maps.
 */
export function laneId(lane: Lane): string {
  if (lane.kind === "throttled") return `rv-${lane.runtimeVersionId}`;
  if (lane.kind === "capped") return `cp-${lane.cappingRuntimeId}-${SERVICE_SUFFIX[lane.service]}`;
  return `u-${orgDigest(lane.orgId)}`;
}

const CAPPED_LANE_ID = /^cp-([0-9a-f-]{36})-([ad])$/;

/** The throttled or capped lane an id names (unthrottled lane ids are digests: they name no lane back). */
export function laneOfId(id: string): LimitedLane | undefined {
  if (id.startsWith("rv-")) return throttledLane(id.slice(3));
  const capped = CAPPED_LANE_ID.exec(id);
  return capped ? cappedLane(capped[1]!, capped[2] === "a" ? "action" : "dataSource") : undefined;
}

const CALL_ID_SEPARATOR = ".";

/** A call's id from its lane's id and its own (its BullMQ job's id). */
export const joinCallId = (lane: string, own: string): string => `${lane}${CALL_ID_SEPARATOR}${own}`;

/** A call's id from its lane and its BullMQ job's id. */
export const callIdOf = (lane: Lane, jobId: string): string => joinCallId(laneId(lane), jobId);

/**
 * A new call's id: its lane's id, then 96 random bits (laneId and base64url never contain the separator). Its own
 * part is its job's id: kept several times per queued call (job key, wait list, events), so it is no longer than needed.
 */
export const newCallId = (lane: Lane): string => callIdOf(lane, pooledRandomBytes(12).toString("base64url"));

/**
 * A call id's two parts: its lane's id and its own, its job's id in the lane's queue (any string is accepted: it
 * only names keys).
 */
export function splitCallId(callId: string): [laneId: string, own: string] {
  const at = callId.lastIndexOf(CALL_ID_SEPARATOR);
  return at === -1 ? ["", callId] : [callId.slice(0, at), callId.slice(at + 1)];
}

/** The throttled or capped lane a call id names, or undefined if it names an org's unthrottled queue (or none). */
export const limitedLaneOfCall = (callId: string): LimitedLane | undefined => laneOfId(splitCallId(callId)[0]);

export function runtimeKeys(prefix: string): RuntimeKeys {
  const rt = `${prefix}:rt`;
  const bullPrefix = `${prefix}:bull`;
  const laneState = (lane: Lane) => `${rt}:{${laneId(lane)}}:lane`;
  const versionState = (id: string) => laneState(throttledLane(id));
  const pause = (lane: Lane, origin: string) => (lane.kind === "unthrottled" ? `${laneState(lane)}:pause:${origin}` : `${laneState(lane)}:pause`);
  const org = (orgId: string) => `${rt}:{o-${orgDigest(orgId)}}`;
  const queueName = (lane: Lane) => `{${laneId(lane)}}`;
  /** A key of one call, in its lane's slot. */
  const inCallSlot = (kind: string) => (callId: string) => {
    const [lane, own] = splitCallId(callId);
    return `${rt}:{${lane}}:${kind}:${own}`;
  };
  return {
    bullPrefix,
    queueName,
    queueKey: (lane, type) => `${bullPrefix}:${queueName(lane)}:${type}`,
    tat: (lane) => `${laneState(lane)}:tat`,
    rate: (lane) => `${laneState(lane)}:rate`,
    sendLog: (id) => `${versionState(id)}:send-log`,
    pause,
    backoff: (lane, origin) => `${pause(lane, origin)}:backoff`,
    stats: (lane) => `${laneState(lane)}:stats`,
    sentInSecond: (lane, second) => `${laneState(lane)}:sent:${second}`,
    window: (lane) => `${laneState(lane)}:window`,
    leases: (lane) => `${laneState(lane)}:leases`,
    lanePatterns: (lane) => [`${laneState(lane)}:*`, `${bullPrefix}:${queueName(lane)}:*`],
    job: (callId) => {
      const [lane, own] = splitCallId(callId);
      return `${bullPrefix}:{${lane}}:${own}`;
    },
    call: inCallSlot("call"),
    laneInfo: (lane) => `${rt}:{${laneId(lane)}}:info`,
    orgQueued: (orgId) => `${org(orgId)}:queued`,
    orgQueuedBytes: (orgId) => `${org(orgId)}:queued-bytes`,
    orgCalls: (orgId, hour) => `${org(orgId)}:calls:${hour}`,
    orgLaneAliases: (orgId) => `${org(orgId)}:lane-aliases`,
    liveOrgs: () => `${rt}:orgs:live`,
    orgReserving: (orgId) => `${org(orgId)}:reserving`,
    orgLanes: (orgId) => `${org(orgId)}:lanes`,
    unreleased: (lane) => `${rt}:{${lane}}:unreleased`,
    callback: inCallSlot("callback"),
    callbackOutbox: (lane) => `${rt}:{${lane}}:callbacks`,
    callbackLanes: () => `${rt}:lanes:callbacks`,
    replay: inCallSlot("replay"),
    unthrottledLanes: () => `${rt}:lanes:unthrottled`,
    idempotency: (orgId, keyHash) => `${org(orgId)}:idem:${keyHash}`,
    inFlight: () => `${rt}:workers:in-flight`,
    lock: (name) => `${rt}:lock:${name}`,
    apiRequests: (orgId, limitClass, bucketMs) => `${prefix}:api:{a-${orgDigest(orgId)}-${limitClass}}:requests:${bucketMs}`,
    failedAuths: (address) => `${prefix}:api:{f-${orgDigest(address)}}:failed-auths`,
    orgChanges: () => `${prefix}:org-changes`,
  };
}
