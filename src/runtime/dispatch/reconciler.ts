import type { Logger } from "../../shared/logger.js";
import { execPipeline, underLock } from "../../shared/redis.js";
import { JOB_FIELDS, ROLLED_BACK } from "../call-record.js";
import type { RuntimeStores } from "../runtime-stores.js";

/** How long an acceptance may take between reserving room and settling it before the reconciler steps in. */
const SETTLE_WITHIN_MS = 30_000;
/** How long a process may take between ending a call and freeing it before the reconciler frees it. */
const RELEASE_WITHIN_MS = 10_000;
/** A lane is forgotten once none of its calls can still be live or end: this long past the retention. */
const LANE_LIFE_MARGIN_MS = 10 * 60_000;
/**
 * An org without queued calls is forgotten once no call was accepted for it for this long (far above OrgBudget's
 * LIVE_ORG_RENEW_MS, how often an accepting process renews its entry).
 */
const FORGET_ORG_AFTER_MS = 10 * 60_000;

/**
 * Keeps each org's count of queued calls true (CONTRACT §10), whatever crashed. Each pass (any worker process, one
 * at a time) looks, per org that may have queued calls, only where a crash leaves a trace, never at every call:
 * - reservations an API never settled (it died between reserving room and writing the calls, or before noting it
 *   did): the room of calls never written, or rolled back, is freed;
 * - calls its lanes note as ended but not freed (a process died between ending a call, in the lane's slot, and
 *   freeing it, in the org's): freed.
 * Each reservation and each note is taken by one script, so a call is freed once; a process that dies after freeing
 * a call and before clearing its note has it freed twice, which the count (never below zero) absorbs.
 */
export class Reconciler {
  constructor(
    private readonly deps: RuntimeStores & {
      logger: Logger;
      retentionMs: number;
    },
  ) {}

  /** One pass over every org that may have queued calls; returns at once when another process holds the lock. */
  async reconcile(lockMs: number): Promise<void> {
    const { redis, keys, budget } = this.deps;
    await underLock(redis, keys.lock("reconcile"), lockMs, async () => {
      for (const { orgId, seenAt } of await budget.liveOrgs()) {
        await this.settleReservations(orgId);
        await this.releaseEnded(orgId);
        const idle = Date.now() - Number(seenAt) > FORGET_ORG_AFTER_MS;
        if (idle && (await budget.queued(orgId)).calls === 0) await budget.forgetOrg(orgId, seenAt);
      }
    });
  }

  /** Short retentions (tests) shorten the grace periods with them. */
  private within(ms: number): number {
    return Math.min(ms, this.deps.retentionMs);
  }

  private async settleReservations(orgId: string): Promise<void> {
    const { budget, logger } = this.deps;
    const unsettled = await budget.unsettled(orgId, Date.now() - this.within(SETTLE_WITHIN_MS));
    if (!unsettled.length) return;
    const never = await this.neverSent(unsettled);
    const freed = await budget.releaseReserved(orgId, unsettled.filter((_, i) => never[i]));
    // The others were queued: each frees its room when it ends.
    await budget.settled(orgId, unsettled);
    if (freed > 0) logger.warn({ orgId, calls: freed }, "freed room reserved for calls never queued");
  }

  private async releaseEnded(orgId: string): Promise<void> {
    const { budget, records, logger } = this.deps;
    for (const { laneId, joinedAt } of await budget.lanes(orgId)) {
      const { calls, bytes, left } = await records.claimUnreleased(laneId, Date.now() - this.within(RELEASE_WITHIN_MS));
      if (calls > 0) {
        await budget.release(orgId, calls, bytes);
        logger.warn({ orgId, laneId, calls, bytes }, "freed ended calls still counted as queued");
      } else if (left === 0 && Date.now() - joinedAt > this.deps.retentionMs + LANE_LIFE_MARGIN_MS) {
        await budget.forgetLane(orgId, laneId);
      }
    }
  }

  /** For each call, whether it will never be sent: its job was never written (nor ended), or was rolled back. */
  private async neverSent(callIds: string[]): Promise<boolean[]> {
    const { redis, keys } = this.deps;
    const pipeline = redis.pipeline();
    for (const callId of callIds) {
      pipeline.hmget(keys.job(callId), "timestamp", JOB_FIELDS.state);
      pipeline.exists(keys.call(callId));
    }
    const replies = await execPipeline(pipeline);
    return callIds.map((_, i) => {
      const [timestamp, state] = replies[2 * i] as (string | null)[];
      const finished = replies[2 * i + 1] as number;
      return state === ROLLED_BACK || (!timestamp && !finished);
    });
  }
}
