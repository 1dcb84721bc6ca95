import { setTimeout as sleep } from "node:timers/promises";
import type { CallStore, FinalOutcome } from "../call-store.js";
import type { InFlightSends } from "../in-flight.js";
import type { RuntimeKeys } from "../keys.js";
import type { QueuedCall } from "../queues.js";
import type { RuntimeStats } from "../stats.js";
import type { HttpSender } from "./http-sender.js";
import type { Pacer } from "./pacer.js";
import { pauseUntil } from "./pause-headers.js";

/** Sends that count against the limit: the first one plus 3 retries (as in Journey Optimizer). */
export const MAX_ATTEMPTS = 4;
const NOT_RETRIED = new Set([401, 403, 404]);
const PAUSE_STATUSES = new Set([429, 503]);
const RETRY_BACKOFF_MS = 200;
/** Names the call on every attempt, so a target can drop the duplicates of an at-least-once send (CONTRACT §10). */
export const CALL_ID_HEADER = "Sluice-Call-Id";
/** A send leaving this much after its slot is re-logged at its real time (see Pacer.restamp). */
const RESTAMP_AFTER_MS = 2;
/**
 * An unthrottled call whose origin is paused for longer than this leaves the worker until the pause ends instead of
 * holding one of its lane's places (CONTRACT §11); shorter waits are cheaper to sleep through.
 */
const DEFER_AFTER_MS = 250;

export interface DispatcherDeps {
  records: CallStore;
  pacer: Pacer;
  sender: HttpSender;
  stats: RuntimeStats;
  inFlight: InFlightSends;
  keys: RuntimeKeys;
  retentionMs: number;
  /** True once a lane's runtime version has finished draining: its calls are dropped, never sent. */
  drained(lane: QueuedCall["lane"]): boolean;
  /** A call just ended with a callback to deliver (it is in the outbox already). */
  onCallback(callId: string): void;
}

/** What became of a dispatch: the call ended (or is no longer this worker's), or it waits outside the worker. */
export type DispatchResult = { kind: "done" } | { kind: "defer"; untilMs: number };

const DONE: DispatchResult = { kind: "done" };

/**
 * Takes one call from queued to a terminal state (CONTRACT §6): never after its 6 h retention or its version's
 * drain, each send paced by the lane's slot, up to 3 retries within `timeoutMs` (not after 401/403/404, nor after
 * a redirect, which is never followed), and a 429/503 pausing the call's lane (or, unthrottled, its org's calls to
 * that origin) without counting as an attempt: until the time its headers give, or by the header-less backoff.
 * A connection the egress policy refuses ends the call at once.
 */
export class CallDispatcher {
  constructor(private readonly deps: DispatcherDeps) {}

  async dispatch(job: QueuedCall): Promise<DispatchResult> {
    const { records, pacer, sender, stats } = this.deps;
    const origin = new URL(job.url).origin;
    const expiresAt = job.acceptedAt + this.deps.retentionMs;
    const backoffKey = this.deps.keys.backoff(job.lane, origin);
    let spentMs = 0;
    let last: FinalOutcome | undefined;
    for (;;) {
      const stop = this.stopReason(job, expiresAt);
      if (stop) return this.finish(job, stop);
      await pacer.reserve(job.lane, () => this.stopReason(job, expiresAt) !== undefined);
      const stopAfterWait = this.stopReason(job, expiresAt);
      if (stopAfterWait) return this.finish(job, stopAfterWait);
      const sendId = `${job.callId}:${Date.now()}`;
      let begun = await pacer.begin(job.lane, origin, job.callId, sendId);
      while (begun.kind === "wait") {
        if (begun.paused && job.lane.kind === "unthrottled" && begun.ms > DEFER_AFTER_MS) {
          if (spentMs > 0) await records.saveSpent(job.callId, spentMs);
          return { kind: "defer", untilMs: Date.now() + begun.ms };
        }
        await sleep(begun.ms);
        const stopWhileWaiting = this.stopReason(job, expiresAt);
        if (stopWhileWaiting) return this.finish(job, stopWhileWaiting);
        begun = await pacer.begin(job.lane, origin, job.callId, sendId);
      }
      // Gone: the API rolled the submission back, or the call ended (a redelivery after a crash, or the sweeper's).
      if (begun.kind === "gone") return DONE;
      const { attempts, issuedAt } = begun;
      spentMs = Math.max(spentMs, begun.spentMs);

      const outcome = await this.deps.inFlight.during(job.lane, () =>
        sender.send({
          pool: job.orgId,
          method: job.method,
          url: job.url,
          headers: withCallId(job.headers, job.callId),
          ...(job.body !== undefined ? { body: job.body } : {}),
          timeoutMs: Math.max(1, job.timeoutMs - spentMs),
          onWire: () => {
            const lateMs = performance.now() - issuedAt;
            if (lateMs > RESTAMP_AFTER_MS) void pacer.restamp(job.lane, sendId, lateMs).catch(() => undefined);
          },
        }),
      );
      spentMs += outcome.durationMs;
      const sent = { lastSendMs: outcome.durationMs, backoffKey };

      if (outcome.ok) {
        const response = { status: outcome.status, headers: outcome.headers, bodyPreview: outcome.bodyPreview };
        if (outcome.status >= 200 && outcome.status < 300) return this.finish(job, { state: "succeeded", response }, sent);
        if (outcome.status >= 300 && outcome.status < 400) {
          return this.finish(job, { state: "failed", response, error: `HTTP ${outcome.status}: redirects are not followed` }, sent);
        }
        last = { state: "failed", response, error: `HTTP ${outcome.status}` };
        if (NOT_RETRIED.has(outcome.status)) return this.finish(job, last, sent);
        if (PAUSE_STATUSES.has(outcome.status)) {
          await Promise.all([records.requeue(job.callId), stats.latency(job.lane, outcome.durationMs)]);
          await pacer.pause(job.lane, origin, pauseUntil(outcome.status, outcome.headers, Date.now()));
          continue;
        }
      } else if (outcome.error === "egress_denied") {
        return this.finish(job, { state: "failed", error: `egress_denied: ${outcome.message}` });
      } else {
        last = { state: "failed", error: `${outcome.error}: ${outcome.message}` };
      }
      // No retry whose backoff would use up the rest of the budget: it would go out with (next to) no time to answer.
      const budgetLeft = job.timeoutMs - spentMs;
      const backoff = RETRY_BACKOFF_MS * 2 ** (attempts - 1);
      if (attempts >= MAX_ATTEMPTS || budgetLeft <= backoff) return this.finish(job, last, sent);
      await stats.latency(job.lane, outcome.durationMs);
      await sleep(backoff);
      spentMs += backoff;
    }
  }

  /** A dispatch that kept crashing: the call ends `failed` rather than staying queued forever. */
  async abandon(job: QueuedCall, error: Error): Promise<void> {
    await this.finish(job, { state: "failed", error: `internal error: ${error.message}` });
  }

  private stopReason(job: QueuedCall, expiresAt: number): FinalOutcome | undefined {
    if (this.deps.drained(job.lane)) return { state: "dropped", error: "runtime version finished draining" };
    if (Date.now() >= expiresAt) return { state: "expired", error: "not sent within the queue retention (6 h)" };
    return undefined;
  }

  /** `sent`: the call's last send (its latency, and the backoff a success ends), if it was sent. */
  private async finish(job: QueuedCall, outcome: FinalOutcome, sent?: { lastSendMs: number; backoffKey: string }): Promise<DispatchResult> {
    if ((await this.deps.records.finish(job.callId, job.orgId, job.lane, outcome, sent)) === "callback") this.deps.onCallback(job.callId);
    return DONE;
  }
}

/** The call's headers with Sluice-Call-Id, which replaces any the caller gave under any case. */
function withCallId(headers: Record<string, string> | undefined, callId: string): Record<string, string> {
  const sent: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) if (name.toLowerCase() !== CALL_ID_HEADER.toLowerCase()) sent[name] = value;
  sent[CALL_ID_HEADER] = callId;
  return sent;
}
