import type { CallRecord, CallState } from "./accept/call.schema.js";
import type { LimitedLane } from "./keys.js";
import { parseJobName } from "./queues.js";

/**
 * How a call's record is kept, compactly (every byte is paid per call):
 * - while it is queued or being sent, by its BullMQ job: the job's name (method, URL), timestamp (acceptedAt) and
 *   the fields below, which exist only once a worker has touched the call (absent state: `queued`);
 * - once it ended, by one string holding a JSON array (`FinishedRecord`), built by CallStore's FINISH script, kept
 *   24 h;
 * - what every record of a throttled or capped lane names (its org, config and version) once per lane (its info,
 *   see CallStore.saveLaneInfo).
 */
export const JOB_FIELDS = { state: "call.state", attempts: "call.attempts", sentAt: "call.sentAt", spentMs: "call.spentMs" } as const;
/** A job's state once its submission was rolled back: it is not a call, and is skipped, never sent. */
export const ROLLED_BACK = "gone";

/** Response headers that say nothing about the answer itself (RFC 9110 §7.6.1): not recorded. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"]);
/** A record keeps the response's headers in their order up to this many bytes of names and values. */
export const RECORDED_HEADER_BYTES = 1024;

export type RecordedResponse = NonNullable<CallRecord["response"]>;

/** The response as a record keeps it: end-to-end headers only, at most RECORDED_HEADER_BYTES of them. */
export function recordedResponse(response: RecordedResponse): RecordedResponse {
  const headers: Record<string, string> = {};
  let bytes = 0;
  for (const [name, value] of Object.entries(response.headers)) {
    if (HOP_BY_HOP.has(name)) continue;
    bytes += name.length + value.length;
    if (bytes > RECORDED_HEADER_BYTES) break;
    headers[name] = value;
  }
  return { ...response, headers };
}

/** The end of a finished record's array, which the caller knows and the script appends: `,<response>,<error>`. */
export function finishedTail(response: RecordedResponse | undefined, error: string | undefined): string {
  const encoded = response ? [response.status, response.headers, response.bodyPreview] : null;
  return `,${JSON.stringify(encoded)},${JSON.stringify(error ?? null)}`;
}

/**
 * `[state, attempts, acceptedAt, sentAt|null, completedAt, method, url, [status, headers, preview]|null, error|null,
 * replayOf|null, other limiting lane ids|null]` (records written before replays existed end at `error`, before
 * capping at `replayOf`).
 */
type FinishedRecord = [
  CallState,
  number,
  number,
  number | null,
  number,
  string,
  string,
  [number, Record<string, string>, string] | null,
  string | null,
  (string | null)?,
  (string | null)?,
];

/** The ids of the lanes besides its own whose limits a finished call obeyed (see jobName). */
export const finishedAlsoLimitedBy = (stored: string): string | undefined => (JSON.parse(stored) as FinishedRecord)[10] ?? undefined;

export type CallbackView = NonNullable<CallRecord["callback"]>;

/** The callback block of a record, from the callback's stored fields (state, attempts, last status). */
export function callbackView(fields: (string | null)[]): CallbackView | undefined {
  const [state, attempts, lastStatus] = fields;
  if (!state) return undefined;
  return { state: state as CallbackView["state"], attempts: Number(attempts ?? 0), ...(lastStatus ? { lastStatus: Number(lastStatus) } : {}) };
}

/** A config that limited a call, as its record names it (CONTRACT §12). */
export type LimitedBy = NonNullable<CallRecord["limitedBy"]>[number];

/** What a call's record says of the limits it obeyed, from the infos of its lanes (see CallStore.getMany). */
export interface LaneInfo {
  throttled: boolean;
  throttlingConfigUid?: string;
  runtimeVersion?: number;
  limitedBy?: LimitedBy[];
}

/** What a lane's info says (see CallStore.saveLaneInfo); empty for a lane nothing is known of. */
export interface StoredLaneInfo {
  orgId?: string | undefined;
  configUid?: string | undefined;
  version?: number | undefined;
}

/** What a record says of the lanes whose limits the call obeyed: its own (unless unthrottled), then the others. */
export function describeLimits(lanes: readonly { lane: LimitedLane; info: StoredLaneInfo | undefined }[]): LaneInfo {
  const limitedBy = lanes.map(({ lane, info }): LimitedBy => ({
    api: lane.kind === "throttled" ? "throttling" : "capping",
    ...(info?.configUid ? { configUid: info.configUid } : {}),
    ...(lane.kind === "capped" ? { service: lane.service } : {}),
  }));
  const throttling = lanes.find(({ lane }) => lane.kind === "throttled")?.info;
  if (!throttling && !limitedBy.length) return { throttled: false };
  return {
    throttled: throttling !== undefined,
    ...(throttling?.configUid ? { throttlingConfigUid: throttling.configUid } : {}),
    ...(throttling?.version !== undefined ? { runtimeVersion: throttling.version } : {}),
    ...(limitedBy.length ? { limitedBy } : {}),
  };
}

/** The record of a call that ended, from its stored array and its callback's state, if it has one. */
export function finishedRecord(callId: string, stored: string, lane: LaneInfo, callback?: CallbackView): CallRecord {
  const [state, attempts, acceptedAt, sentAt, completedAt, method, url, response, error, replayOf] = JSON.parse(stored) as FinishedRecord;
  return view(callId, lane, {
    ...(replayOf ? { replayOf } : {}),
    ...(callback ? { callback } : {}),
    state,
    method,
    url,
    attempts,
    acceptedAt,
    ...(sentAt !== null ? { sentAt } : {}),
    completedAt,
    ...(response ? { response: { status: response[0], headers: response[1], bodyPreview: response[2] } } : {}),
    ...(error !== null ? { error } : {}),
  });
}

/** The record of a call still queued or being sent, from its job's name, timestamp and the JOB_FIELDS. */
export function pendingRecord(
  callId: string,
  job: { name: string; timestamp: string; state: string | null; attempts: string | null; sentAt: string | null },
  lane: LaneInfo,
): CallRecord {
  const { method, url, callbackUrl, replayOf } = parseJobName(job.name);
  return view(callId, lane, {
    ...(replayOf ? { replayOf } : {}),
    ...(callbackUrl ? { callback: { state: "pending", attempts: 0 } } : {}),
    state: (job.state ?? "queued") as CallState,
    method,
    url,
    attempts: Number(job.attempts ?? 0),
    acceptedAt: Number(job.timestamp),
    ...(job.sentAt ? { sentAt: Number(job.sentAt) } : {}),
  });
}

interface Stored {
  state: CallState;
  method: string;
  url: string;
  attempts: number;
  acceptedAt: number;
  sentAt?: number;
  completedAt?: number;
  response?: RecordedResponse;
  error?: string;
  replayOf?: string;
  callback?: CallbackView;
}

function view(callId: string, lane: LaneInfo, stored: Stored): CallRecord {
  const end = stored.sentAt ?? stored.completedAt ?? Date.now();
  return {
    callId,
    state: stored.state,
    ...lane,
    method: stored.method as CallRecord["method"],
    url: stored.url,
    attempts: stored.attempts,
    acceptedAt: new Date(stored.acceptedAt).toISOString(),
    ...(stored.sentAt !== undefined ? { sentAt: new Date(stored.sentAt).toISOString() } : {}),
    ...(stored.completedAt !== undefined ? { completedAt: new Date(stored.completedAt).toISOString() } : {}),
    waitMs: Math.max(0, end - stored.acceptedAt),
    ...(stored.response ? { response: stored.response } : {}),
    ...(stored.error !== undefined ? { error: stored.error } : {}),
    ...(stored.callback ? { callback: stored.callback } : {}),
    ...(stored.replayOf ? { replayOf: stored.replayOf } : {}),
  };
}
