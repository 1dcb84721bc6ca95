import { Webhook } from "standardwebhooks";
import type { Logger } from "../../shared/logger.js";
import type { CallStore } from "../call-store.js";
import type { HttpSender } from "../dispatch/http-sender.js";
import { splitCallId } from "../keys.js";
import type { CallbackOutbox, CallbackSettlement, PendingCallback } from "./callback-outbox.js";
import type { CallbackSecrets } from "./callback-secrets.js";

const CALLBACK_TIMEOUT_MS = 10_000;
/** A claimed callback is retried by another process if this one has not settled it by then. */
const LEASE_MS = 3 * CALLBACK_TIMEOUT_MS;
const POLL_INTERVAL_MS = 1000;
/** Callbacks in flight per process, and per lane per poll (so one org's slow receiver cannot take them all). */
const MAX_IN_FLIGHT = 64;
const MAX_PER_LANE = 8;
/** CONTRACT §10: from 5 s (CALLBACK_RETRY_BASE_MS), doubling, at most 30 min between tries, until a 2xx or 24 h passed. */
const MAX_RETRY_DELAY_MS = 30 * 60_000;
const GIVE_UP_AFTER_MS = 24 * 60 * 60_000;

export interface CallbackDelivererDeps {
  outbox: CallbackOutbox;
  records: CallStore;
  sender: HttpSender;
  secrets: CallbackSecrets;
  logger: Logger;
  /** The first retry's delay (CALLBACK_RETRY_BASE_MS; shortened in tests). */
  retryBaseMs: number;
}

/** The `webhook-*` headers of Standard Webhooks: one `v1,` signature per secret, space-separated. */
export function signatureHeaders(callId: string, body: string, secrets: readonly string[], at: Date): Record<string, string> {
  return {
    "webhook-id": callId,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": secrets.map((secret) => new Webhook(secret).sign(callId, at, body)).join(" "),
  };
}

/** When the attempt after `attempts` failed ones is due, or undefined once 24 h since the call ended have passed. */
export function nextAttemptAt(attempts: number, since: number, now: number, baseMs: number): number | undefined {
  const at = now + Math.min(baseMs * 2 ** (attempts - 1), MAX_RETRY_DELAY_MS);
  return at - since > GIVE_UP_AFTER_MS ? undefined : at;
}

/**
 * Delivers the outbox's callbacks (CONTRACT §10): each POSTs the call's final record as JSON, signed with its org's
 * secret, through the egress policy (§9); a 2xx delivers it, anything else is retried on the backoff above. Every
 * worker process runs one: it looks at the lanes with callbacks every second, and at once at a lane whose call just
 * ended with one (`kick`).
 */
export class CallbackDeliverer {
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private polling = false;

  constructor(private readonly deps: CallbackDelivererDeps) {}

  start(): void {
    this.timer = setInterval(() => void this.poll(), POLL_INTERVAL_MS);
  }

  /** A call of this lane just ended with a callback: deliver it now rather than at the next poll. */
  kick(callId: string): void {
    void this.pollLane(splitCallId(callId)[0]);
  }

  /** Stops polling and waits for the callbacks in flight. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    while (this.inFlight.size) await Promise.all([...this.inFlight]);
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      for (const laneId of await this.deps.outbox.lanes()) await this.pollLane(laneId);
    } catch (error) {
      this.deps.logger.warn({ err: error }, "callback poll failed");
    } finally {
      this.polling = false;
    }
  }

  private async pollLane(laneId: string): Promise<void> {
    const room = Math.min(MAX_PER_LANE, MAX_IN_FLIGHT - this.inFlight.size);
    if (room <= 0) return;
    try {
      for (const callback of await this.deps.outbox.claim(laneId, room, LEASE_MS)) {
        const delivery = this.deliver(callback).finally(() => this.inFlight.delete(delivery));
        this.inFlight.add(delivery);
      }
    } catch (error) {
      this.deps.logger.warn({ err: error, laneId }, "claiming callbacks failed");
    }
  }

  private async deliver(callback: PendingCallback): Promise<void> {
    const { records, sender, secrets, outbox, logger } = this.deps;
    try {
      const record = await records.get(callback.callId, callback.orgId);
      if (!record) return await outbox.settle(callback.callId, { outcome: "failed" });
      const body = JSON.stringify(record);
      const signed = signatureHeaders(callback.callId, body, await secrets.forSigning(callback.orgId), new Date());
      const outcome = await sender.send({
        pool: callback.orgId,
        method: "POST",
        url: callback.url,
        headers: { "content-type": "application/json", ...signed },
        body,
        timeoutMs: CALLBACK_TIMEOUT_MS,
      });
      const status = outcome.ok ? outcome.status : undefined;
      // As a call's send (CONTRACT §9): an address the policy refuses is not tried again.
      const settlement: CallbackSettlement = !outcome.ok && outcome.error === "egress_denied" ? { outcome: "failed" } : this.settlement(callback, status);
      if (settlement.outcome !== "delivered") {
        logger.warn({ callId: callback.callId, attempt: callback.attempts + 1, status: status ?? (outcome.ok ? undefined : outcome.error) }, "callback attempt failed");
      }
      await outbox.settle(callback.callId, settlement);
    } catch (error) {
      // Postgres or Redis unreachable: not the receiver's failure, so no attempt is counted; the lease runs out and
      // the callback is tried again then.
      logger.warn({ err: error, callId: callback.callId }, "callback delivery interrupted");
    }
  }

  private settlement(callback: PendingCallback, status: number | undefined): CallbackSettlement {
    const answered = status === undefined ? {} : { status };
    if (status !== undefined && status >= 200 && status < 300) return { ...answered, outcome: "delivered" };
    const retryAt = nextAttemptAt(callback.attempts + 1, callback.since, Date.now(), this.deps.retryBaseMs);
    return retryAt === undefined ? { ...answered, outcome: "failed" } : { ...answered, outcome: "retry", retryAt };
  }
}
