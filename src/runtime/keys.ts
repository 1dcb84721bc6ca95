/**
 * Every Redis key the runtime owns, in one place. All live under REDIS_PREFIX; everything that belongs to one
 * runtime version lives under `<prefix>:rt:rv:<id>:` or in its BullMQ queue `<prefix>:bull:rv-<id>:`, so a
 * finished drain can delete them by pattern.
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
  /** Until when a lane is paused by a Retry-After-like signal (ms since epoch). */
  pause(lane: Lane, origin: string): string;
  stats(runtimeVersionId: string): string;
  sentInSecond(runtimeVersionId: string, epochSecond: number): string;
  versionPatterns(runtimeVersionId: string): string[];
  call(callId: string): string;
  orgQueued(orgId: string): string;
  idempotency(orgId: string, keyHash: string): string;
  lock(name: string): string;
}

/** Where a call waits: the queue of a runtime version (throttled) or the shared unthrottled queue. */
export type Lane = { kind: "throttled"; runtimeVersionId: string } | { kind: "unthrottled" };

export const UNTHROTTLED: Lane = { kind: "unthrottled" };

/** The id a lane's stats are kept under: the runtime version, or "unthrottled". */
export const laneId = (lane: Lane): string => (lane.kind === "throttled" ? lane.runtimeVersionId : "unthrottled");

export function runtimeKeys(prefix: string): RuntimeKeys {
  const rt = `${prefix}:rt`;
  const rv = (id: string) => `${rt}:rv:${id}`;
  const bullPrefix = `${prefix}:bull`;
  const queueName = (lane: Lane) => (lane.kind === "throttled" ? `rv-${lane.runtimeVersionId}` : "unthrottled");
  return {
    bullPrefix,
    queueName,
    tat: (id) => `${rv(id)}:tat`,
    rate: (id) => `${rv(id)}:rate`,
    sendLog: (id) => `${rv(id)}:send-log`,
    pause: (lane, origin) => (lane.kind === "throttled" ? `${rv(lane.runtimeVersionId)}:pause` : `${rt}:pause:${origin}`),
    stats: (id) => `${rv(id)}:stats`,
    sentInSecond: (id, second) => `${rv(id)}:sent:${second}`,
    versionPatterns: (id) => [`${rv(id)}:*`, `${bullPrefix}:${queueName({ kind: "throttled", runtimeVersionId: id })}:*`],
    call: (callId) => `${rt}:call:${callId}`,
    orgQueued: (orgId) => `${rt}:org:${orgId}:queued`,
    idempotency: (orgId, keyHash) => `${rt}:idem:${orgId}:${keyHash}`,
    lock: (name) => `${rt}:lock:${name}`,
  };
}
