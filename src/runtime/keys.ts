/**
 * Every Redis key the runtime owns, in one place. All live under REDIS_PREFIX. Everything that belongs to one
 * runtime version lives under `<prefix>:rt:rv:<id>:` or in its BullMQ queue `<prefix>:bull:rv-<id>:`, so a
 * finished drain can delete them by pattern; an org's unthrottled lane lives under `<prefix>:rt:u:<org>:` and in
 * the queue `<prefix>:bull:u-<org>:`.
 */
export interface RuntimeKeys {
  readonly bullPrefix: string;
  queueName(lane: Lane): string;
  /** GCRA state of a throttled lane. */
  tat(runtimeVersionId: string): string;
  /** Send times of the last second of a throttled lane (the hard sliding-window check). */
  sendLog(runtimeVersionId: string): string;
  /** Calls per second in force for a throttled lane (written on deploy/update, read by the pacer). */
  rate(runtimeVersionId: string): string;
  /**
   * Until when calls are paused by a 429/503 (ms since epoch): a throttled lane as a whole, an unthrottled lane
   * per origin (CONTRACT §6: pauses of the unthrottled queue belong to (org, origin)).
   */
  pause(lane: Lane, origin: string): string;
  /** How many header-less 429/503 answers in a row the pause above has seen (its backoff exponent). */
  backoff(lane: Lane, origin: string): string;
  stats(lane: Lane): string;
  sentInSecond(lane: Lane, epochSecond: number): string;
  versionPatterns(runtimeVersionId: string): string[];
  call(callId: string): string;
  orgQueued(orgId: string): string;
  orgQueuedBytes(orgId: string): string;
  /** Orgs with an unthrottled lane, scored by when a call last joined it (ms): where the workers look for work. */
  unthrottledLanes(): string;
  idempotency(orgId: string, keyHash: string): string;
  lock(name: string): string;
}

export type ThrottledLane = { kind: "throttled"; runtimeVersionId: string };
export type UnthrottledLane = { kind: "unthrottled"; orgId: string };
/** Where a call waits: the queue of a runtime version (throttled) or its org's unthrottled queue. */
export type Lane = ThrottledLane | UnthrottledLane;

export const throttledLane = (runtimeVersionId: string): ThrottledLane => ({ kind: "throttled", runtimeVersionId });
export const unthrottledLane = (orgId: string): UnthrottledLane => ({ kind: "unthrottled", orgId });

/** A lane's name in keys, queue names and maps: `rv-<runtime version id>` or `u-<org id, URI-encoded>`. */
export const laneId = (lane: Lane): string =>
  lane.kind === "throttled" ? `rv-${lane.runtimeVersionId}` : `u-${encodeURIComponent(lane.orgId)}`;

export function runtimeKeys(prefix: string): RuntimeKeys {
  const rt = `${prefix}:rt`;
  const rv = (id: string) => `${rt}:rv:${id}`;
  const base = (lane: Lane) => (lane.kind === "throttled" ? rv(lane.runtimeVersionId) : `${rt}:u:${encodeURIComponent(lane.orgId)}`);
  const pause = (lane: Lane, origin: string) => (lane.kind === "throttled" ? `${base(lane)}:pause` : `${base(lane)}:pause:${origin}`);
  const bullPrefix = `${prefix}:bull`;
  return {
    bullPrefix,
    queueName: laneId,
    tat: (id) => `${rv(id)}:tat`,
    rate: (id) => `${rv(id)}:rate`,
    sendLog: (id) => `${rv(id)}:send-log`,
    pause,
    backoff: (lane, origin) => `${pause(lane, origin)}:backoff`,
    stats: (lane) => `${base(lane)}:stats`,
    sentInSecond: (lane, second) => `${base(lane)}:sent:${second}`,
    versionPatterns: (id) => [`${rv(id)}:*`, `${bullPrefix}:${laneId(throttledLane(id))}:*`],
    call: (callId) => `${rt}:call:${callId}`,
    orgQueued: (orgId) => `${rt}:org:${orgId}:queued`,
    orgQueuedBytes: (orgId) => `${rt}:org:${orgId}:queued-bytes`,
    unthrottledLanes: () => `${rt}:lanes:unthrottled`,
    idempotency: (orgId, keyHash) => `${rt}:idem:${orgId}:${keyHash}`,
    lock: (name) => `${rt}:lock:${name}`,
  };
}
