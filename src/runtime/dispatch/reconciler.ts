import type { Logger } from "../../shared/logger.js";
import { JOB_FIELDS, ROLLED_BACK } from "../call-record.js";
import type { FinalOutcome } from "../call-store.js";
import { joinCallId, splitCallId, throttledLane, unthrottledLane, versionOfCall, type Lane } from "../keys.js";
import type { RuntimeStores } from "../runtime-stores.js";

const PAGE = 1000;
/** How long an acceptance may take between reserving room and settling it before the reconciler steps in. */
const SETTLE_WITHIN_MS = 30_000;
/** How long a process may take between ending a call and freeing it before the reconciler frees it. */
const RELEASE_WITHIN_MS = 10_000;
/** How long after its retention a call still non-terminal is ended `expired` by the reconciler. */
const OVERDUE_AFTER_MS = 60_000;
/** An org without live calls is forgotten once no call was accepted for it for this long. */
const FORGET_ORG_AFTER_MS = 10 * 60_000;
const NON_TERMINAL = new Set<string | null>([null, "sending"]);

type Found = "live" | "ended";

/**
 * Keeps each org's count of queued calls true, and ends calls left behind (CONTRACT §10), whatever crashed. Each
 * pass (any worker process, one at a time) looks, per org that may have live calls, only where a crash leaves
 * traces, never at every queued call:
 * - reservations an API never settled (it died between reserving room and writing the calls, or before noting it
 *   did): calls whose jobs were never written, or were rolled back, are freed;
 * - calls its lanes note as ended but not freed (a process died between ending a call, in the lane's slot, and
 *   freeing it, in the org's): freed;
 * - calls accepted since the last pass's horizon and more than the retention plus a minute ago that are still
 *   counted: any still non-terminal (a lane no worker serves, a lost job) is ended `expired`, with its callback.
 * Freeing is idempotent: a call freed twice (by its process come back, say) is freed once.
 */
export class Reconciler {
  constructor(
    private readonly deps: RuntimeStores & {
      logger: Logger;
      retentionMs: number;
    },
  ) {}

  /** One pass over every org that may have live calls; returns at once when another process holds the lock. */
  async reconcile(lockMs: number): Promise<void> {
    const { redis, keys, budget } = this.deps;
    const lock = keys.lock("reconcile");
    if ((await redis.set(lock, String(process.pid), "PX", lockMs, "NX")) !== "OK") return;
    try {
      for (const { orgId, seenAt } of await budget.liveOrgs()) {
        await this.settleReservations(orgId);
        await this.releaseEnded(orgId);
        await this.expireOverdue(orgId);
        const idle = Date.now() - Number(seenAt) > FORGET_ORG_AFTER_MS;
        if (idle && (await budget.queued(orgId)).calls === 0) await budget.forgetOrg(orgId, seenAt);
      }
    } finally {
      await redis.del(lock);
    }
  }

  /** Short retentions (tests) shorten every grace period with them. */
  private within(ms: number): number {
    return Math.min(ms, this.deps.retentionMs);
  }

  private async settleReservations(orgId: string): Promise<void> {
    const { budget, logger } = this.deps;
    const unsettled = await budget.unsettled(orgId, Date.now() - this.within(SETTLE_WITHIN_MS), PAGE);
    if (!unsettled.length) return;
    const found = await this.find(unsettled);
    // A call whose job exists was accepted: it is freed when it ends. The others never were (or were rolled back).
    const never = unsettled.filter((_, i) => found[i] === "ended");
    const freed = await budget.release(orgId, never);
    await budget.settled(orgId, unsettled);
    if (freed > 0) logger.warn({ orgId, calls: never.length, bytes: freed }, "freed room reserved for calls never queued");
  }

  private async releaseEnded(orgId: string): Promise<void> {
    const { budget, redis, keys, logger } = this.deps;
    const before = Date.now() - this.within(RELEASE_WITHIN_MS);
    for (const { laneId, joinedAt } of await budget.lanes(orgId)) {
      const key = keys.unreleased(laneId);
      const owns = await redis.zrangebyscore(key, "-inf", before, "LIMIT", 0, PAGE);
      if (owns.length) {
        const freed = await budget.release(orgId, owns.map((own) => joinCallId(laneId, own)));
        await redis.zrem(key, ...owns);
        if (freed > 0) logger.warn({ orgId, laneId, calls: owns.length, bytes: freed }, "freed ended calls still counted as queued");
      } else if (Date.now() - joinedAt > this.deps.retentionMs + OVERDUE_AFTER_MS && (await redis.zcard(key)) === 0) {
        // No call of this lane can still be live or end any more.
        await budget.forgetLane(orgId, laneId);
      }
    }
  }

  private async expireOverdue(orgId: string): Promise<void> {
    const { budget, records, queues, logger } = this.deps;
    const { callIds, last } = await budget.acceptedBefore(orgId, Date.now() - this.deps.retentionMs - this.within(OVERDUE_AFTER_MS), PAGE);
    if (!last) return;
    const counted = await budget.stillLive(orgId, callIds);
    const found = await this.find(counted);
    const overdue = counted.filter((_, i) => found[i] === "live");
    const expired: FinalOutcome = { state: "expired", error: "not sent within the queue retention (6 h)" };
    await Promise.all(
      overdue.map(async (callId) => {
        const lane = laneOf(callId, orgId);
        await records.finish(callId, orgId, lane, expired);
        // A job a worker still holds cannot be removed: that worker finds the call ended and completes it.
        await queues.get(lane).remove(splitCallId(callId)[1]).catch(() => undefined);
      }),
    );
    // Ended but counted: its lane's note was lost with its process (or predates it), so it is freed here.
    await budget.release(orgId, counted.filter((_, i) => found[i] === "ended"));
    await budget.checkedUpTo(orgId, last);
    if (overdue.length) logger.warn({ orgId, calls: overdue.length }, "expired calls left non-terminal past their retention");
  }

  /** Whether each call is still live: its job exists, is not rolled back and has not ended. */
  private async find(callIds: string[]): Promise<Found[]> {
    if (!callIds.length) return [];
    const { redis, keys } = this.deps;
    const pipeline = redis.pipeline();
    for (const callId of callIds) pipeline.hmget(keys.job(callId), "timestamp", JOB_FIELDS.state);
    const replies = (await pipeline.exec())!.map(([error, reply]) => {
      if (error) throw error;
      return reply as (string | null)[];
    });
    return replies.map(([timestamp, state]) => (timestamp && state !== ROLLED_BACK && NON_TERMINAL.has(state ?? null) ? "live" : "ended"));
  }
}

function laneOf(callId: string, orgId: string): Lane {
  const versionId = versionOfCall(callId);
  return versionId ? throttledLane(versionId) : unthrottledLane(orgId);
}
