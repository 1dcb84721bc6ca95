import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../../shared/logger.js";
import type { CallStore, FinalOutcome } from "../call-store.js";
import type { HttpSender } from "./http-sender.js";
import type { Lane } from "../keys.js";
import type { Pacer } from "./pacer.js";
import { pauseUntil } from "./pause-headers.js";
import type { QueuedCall } from "../queues.js";
import type { RuntimeStats } from "../stats.js";

/** Sends that count against the limit: the first one plus 3 retries (as in Journey Optimizer). */
export const MAX_ATTEMPTS = 4;
const NOT_RETRIED = new Set([401, 403, 404]);
const RETRY_BACKOFF_MS = 200;
const CALLBACK_TIMEOUT_MS = 10_000;
/** A send leaving this much after its slot is re-logged at its real time (see Pacer.restamp). */
const RESTAMP_AFTER_MS = 2;

export interface DispatcherDeps {
  records: CallStore;
  pacer: Pacer;
  sender: HttpSender;
  stats: RuntimeStats;
  logger: Logger;
  retentionMs: number;
  /** True once a lane's runtime version has finished draining: its calls are dropped, never sent. */
  drained(lane: Lane): boolean;
}


/**
 * Takes one call from queued to a terminal state (CONTRACT §6): never after its 6 h retention or its version's
 * drain, each send paced by the lane's slot, up to 3 retries within `timeoutMs` (not after 401/403/404),
 * and a Retry-After-like answer to 429/503 pausing the whole lane without counting as an attempt.
 */
export class CallDispatcher {
  constructor(private readonly deps: DispatcherDeps) {}

  async dispatch(job: QueuedCall): Promise<void> {
    const { records, pacer, sender, stats } = this.deps;
    const origin = new URL(job.url).origin;
    const expiresAt = job.acceptedAt + this.deps.retentionMs;
    let spentMs = 0;
    let last: FinalOutcome | undefined;
    for (;;) {
      const stop = this.stopReason(job, expiresAt);
      if (stop) return this.finish(job, stop);
      await pacer.reserve(job.lane);
      const stopAfterWait = this.stopReason(job, expiresAt);
      if (stopAfterWait) return this.finish(job, stopAfterWait);
      const sendId = `${job.callId}:${Date.now()}`;
      let begun = await pacer.begin(job.lane, origin, job.callId, sendId);
      while (begun.kind === "wait") {
        await sleep(begun.ms);
        const stopWhileWaiting = this.stopReason(job, expiresAt);
        if (stopWhileWaiting) return this.finish(job, stopWhileWaiting);
        begun = await pacer.begin(job.lane, origin, job.callId, sendId);
      }
      // Gone: the API rolled the submission back, or the call ended (a redelivery after a crash, or the sweeper's).
      if (begun.kind === "gone") return;
      const { attempts, issuedAt } = begun;

      const outcome = await sender.send({
        method: job.method,
        url: job.url,
        headers: job.headers ?? {},
        ...(job.body !== undefined ? { body: job.body } : {}),
        timeoutMs: Math.max(1, job.timeoutMs - spentMs),
        onWire: () => {
          const lateMs = performance.now() - issuedAt;
          if (lateMs > RESTAMP_AFTER_MS) void pacer.restamp(job.lane, sendId, lateMs).catch(() => undefined);
        },
      });
      spentMs += outcome.durationMs;

      if (outcome.ok) {
        const response = { status: outcome.status, headers: outcome.headers, bodyPreview: outcome.bodyPreview };
        if (outcome.status >= 200 && outcome.status < 300) return this.finish(job, { state: "succeeded", response }, outcome.durationMs);
        last = { state: "failed", response, error: `HTTP ${outcome.status}` };
        if (NOT_RETRIED.has(outcome.status)) return this.finish(job, last, outcome.durationMs);
        const pausedUntil = pauseUntil(outcome.status, outcome.headers, Date.now());
        if (pausedUntil !== undefined) {
          await Promise.all([records.uncountAttempt(job.callId), stats.latency(job.lane, outcome.durationMs)]);
          await pacer.pause(job.lane, origin, pausedUntil);
          continue;
        }
      } else {
        last = { state: "failed", error: `${outcome.error}: ${outcome.message}` };
      }
      const budgetLeft = job.timeoutMs - spentMs;
      if (attempts >= MAX_ATTEMPTS || budgetLeft <= 0) return this.finish(job, last, outcome.durationMs);
      await stats.latency(job.lane, outcome.durationMs);
      const backoff = Math.min(RETRY_BACKOFF_MS * 2 ** (attempts - 1), budgetLeft);
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

  /** `lastSendMs`: how long the call's last send took, if it was sent. */
  private async finish(job: QueuedCall, outcome: FinalOutcome, lastSendMs?: number): Promise<void> {
    if (!(await this.deps.records.finish(job.callId, job.orgId, job.lane, outcome, lastSendMs))) return;
    if (job.callbackUrl) await this.notify(job.callbackUrl, job.callId);
  }

  /** POSTs the final record to the caller's callbackUrl; a failing callback is logged, never retried forever. */
  private async notify(callbackUrl: string, callId: string): Promise<void> {
    const record = (await this.deps.records.get(callId))?.record;
    if (!record) return;
    const outcome = await this.deps.sender.send({
      method: "POST",
      url: callbackUrl,
      headers: { "content-type": "application/json" },
      body: JSON.stringify(record),
      timeoutMs: CALLBACK_TIMEOUT_MS,
    });
    if (!outcome.ok || outcome.status >= 300) {
      this.deps.logger.warn({ callId, status: outcome.ok ? outcome.status : outcome.error }, "callback delivery failed");
    }
  }
}
