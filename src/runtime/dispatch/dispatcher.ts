import { setTimeout as sleep } from "node:timers/promises";
import type { CallStore, FinalOutcome } from "../call-store.js";
import type { InFlightSends } from "../in-flight.js";
import type { RuntimeKeys } from "../keys.js";
import type { QueuedCall } from "../queues.js";
import type { RuntimeStats } from "../stats.js";
import type { CallGate } from "../limits/call-gate.js";
import type { Taken, WindowLimit } from "../../shared/sliding-window.js";
import type { HttpSender, OutboundRequest, SendOutcome } from "./http-sender.js";
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
 * An unthrottled or capped call whose pause lasts longer than this leaves the worker until the pause ends instead of
 * holding one of its lane's places (CONTRACT §11); shorter waits are cheaper to sleep through.
 */
const DEFER_AFTER_MS = 250;
/** A connection lease outlives the send's own budget by this much: a crashed worker's leases lapse after it. */
const LEASE_MARGIN_MS = 5000;
/** A call waiting for a window looks again at least this often: its stop reasons (drain, retention) are checked then. */
const MAX_WINDOW_WAIT_MS = 1000;

export interface DispatcherDeps {
  records: CallStore;
  gate: CallGate;
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
    const { records, pacer, stats, gate } = this.deps;
    const origin = new URL(job.url).origin;
    const expiresAt = job.acceptedAt + this.deps.retentionMs;
    const backoffKey = this.deps.keys.backoff(job.lane, origin);
    const stopped = () => this.stopReason(job, expiresAt) !== undefined;
    let spentMs = 0;
    let last: FinalOutcome | undefined;
    for (;;) {
      const stop = this.stopReason(job, expiresAt);
      if (stop) return this.finish(job, stop);
      const sendId = `${job.callId}:${Date.now()}`;
      // A capped call's limits: its own lane's, and those of the other configs that matched it (none otherwise).
      const limits = job.lane.kind === "capped" ? gate.limits([job.lane, ...job.alsoLimitedBy]) : [];
      // A connection first, then a slot: a call waiting for a connection must not burn slots it cannot use.
      const leaseMs = job.timeoutMs - spentMs + LEASE_MARGIN_MS;
      if (!(await gate.lease(limits, sendId, leaseMs, stopped))) continue;
      const taken = await gate.renewing(limits, sendId, leaseMs, async () => {
        await pacer.reserve(job.lane, stopped);
        return this.takePlaces(limits, sendId, leaseMs, stopped);
      });
      if (!taken) {
        await gate.unlease(limits, sendId);
        continue;
      }
      let begun = await pacer.begin(job.lane, origin, job.callId, sendId);
      // Throttled and unthrottled calls keep their slot while their lane's second is full or their origin paused.
      while (begun.kind === "wait" && !limits.length) {
        if (begun.paused && job.lane.kind === "unthrottled" && begun.ms > DEFER_AFTER_MS) return this.defer(job, spentMs, begun.ms);
        await sleep(begun.ms);
        const stopWhileWaiting = this.stopReason(job, expiresAt);
        if (stopWhileWaiting) return this.finish(job, stopWhileWaiting);
        begun = await pacer.begin(job.lane, origin, job.callId, sendId);
      }
      if (begun.kind !== "go") {
        await Promise.all([gate.untake(limits, sendId, taken.places), gate.unlease(limits, sendId)]);
        // Gone: the API rolled the submission back, or the call ended (a redelivery after a crash, or the sweeper's).
        if (begun.kind === "gone") return DONE;
        // A capped call's pause: it gives its places back meanwhile.
        if (begun.ms > DEFER_AFTER_MS) return this.defer(job, spentMs, begun.ms);
        await sleep(begun.ms);
        continue;
      }
      const { attempts, issuedAt } = begun;
      spentMs = Math.max(spentMs, begun.spentMs);

      const outcome = await this.deps.inFlight.during(job.lane, () =>
        this.sendHolding(limits, sendId, {
          pool: job.orgId,
          method: job.method,
          url: job.url,
          headers: withCallId(job.headers, job.callId),
          ...(job.body !== undefined ? { body: job.body } : {}),
          timeoutMs: Math.max(1, job.timeoutMs - spentMs),
          onWire: () => {
            const now = performance.now();
            if (now - issuedAt > RESTAMP_AFTER_MS) void pacer.restamp(job.lane, sendId, now - issuedAt).catch(() => undefined);
            if (now - taken.issuedAt > RESTAMP_AFTER_MS) void gate.restamp(limits, sendId, now - taken.issuedAt).catch(() => undefined);
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

  /**
   * A place in every window of `limits` for `sendId`, waiting as long as one is full, and the call's connections
   * renewed for the send; undefined, holding no place, if it stopped meanwhile or lost a connection while waiting (it
   * then starts over). `issuedAt` (performance.now()) is when the granting take was asked for: the send's lateness
   * is measured from there, which never counts it earlier than it left.
   */
  private async takePlaces(
    limits: readonly WindowLimit[],
    sendId: string,
    leaseMs: number,
    stopped: () => boolean,
  ): Promise<{ places: Taken[]; issuedAt: number } | undefined> {
    const { gate } = this.deps;
    for (;;) {
      if (stopped()) return undefined;
      const issuedAt = performance.now();
      const taken = await gate.take(limits, sendId);
      if ("waitMs" in taken) {
        await sleep(Math.min(taken.waitMs, MAX_WINDOW_WAIT_MS));
        continue;
      }
      if (await gate.leaseAll(limits, sendId, leaseMs)) return { places: taken.taken, issuedAt };
      await gate.untake(limits, sendId, taken.taken);
      return undefined;
    }
  }

  /** Sends while holding the call's connections, which are given back however the send ends. */
  private async sendHolding(limits: readonly WindowLimit[], sendId: string, request: OutboundRequest): Promise<SendOutcome> {
    try {
      return await this.deps.sender.send(request);
    } finally {
      await this.deps.gate.unlease(limits, sendId).catch(() => undefined);
    }
  }

  /** The call waits `ms` in BullMQ's delayed set rather than in one of its lane's places (CONTRACT §11). */
  private async defer(job: QueuedCall, spentMs: number, ms: number): Promise<DispatchResult> {
    if (spentMs > 0) await this.deps.records.saveSpent(job.callId, spentMs);
    return { kind: "defer", untilMs: Date.now() + ms };
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
