import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../../shared/logger.js";
import { JOB_FIELDS, ROLLED_BACK } from "../call-record.js";
import type { FinalOutcome } from "../call-store.js";
import { splitCallId, throttledLane, unthrottledLane, versionOfCall, type Lane } from "../keys.js";
import type { RuntimeStores } from "../runtime-stores.js";

const PAGE = 1000;
/**
 * A call found ended but still counted is looked at again this much later before it is freed: in between, the
 * process that ended it frees it itself (within milliseconds), and a submission being accepted writes its jobs.
 */
const CONFIRM_AFTER_MS = 2000;
/** An org without live calls is forgotten once no call was accepted for it for this long. */
const FORGET_ORG_AFTER_MS = 10 * 60_000;
const NON_TERMINAL = new Set<string | null>([null, "sending"]);

type Found = { kind: "live"; acceptedAt: number } | { kind: "ended" };

/**
 * Keeps each org's count of queued calls true (CONTRACT §10), whatever crashed. The count is the set of the org's
 * non-terminal calls; a process that dies after a call's end and before freeing it (a different slot), or an API
 * that dies after reserving room and before writing the calls, leaves ids in the set that no live call backs. Every
 * pass (any worker process, one at a time) frees those, and ends as `expired` any call still non-terminal past
 * its retention plus a margin, whichever lane or worker it was left in.
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
        const live = await this.reconcileOrg(orgId);
        if (live === 0 && Date.now() - Number(seenAt) > FORGET_ORG_AFTER_MS) await budget.forgetOrg(orgId, seenAt);
      }
    } finally {
      await redis.del(lock);
    }
  }

  /** Returns how many live calls the org has left. */
  private async reconcileOrg(orgId: string): Promise<number> {
    const { budget, logger } = this.deps;
    const overdueBefore = Date.now() - this.deps.retentionMs - Math.min(60_000, this.deps.retentionMs);
    const ended: string[] = [];
    let live = 0;
    for (let start = 0; ; start += PAGE) {
      const page = await budget.liveCalls(orgId, start, PAGE);
      const found = await this.find(page);
      page.forEach((callId, i) => {
        const call = found[i]!;
        if (call.kind === "ended") ended.push(callId);
        else live += 1;
      });
      const overdue = page.filter((_, i) => {
        const call = found[i]!;
        return call.kind === "live" && call.acceptedAt < overdueBefore;
      });
      await this.expireOverdue(orgId, overdue);
      if (page.length < PAGE) break;
    }
    if (!ended.length) return live;
    await sleep(CONFIRM_AFTER_MS);
    const again = await this.find(ended);
    const stale = ended.filter((_, i) => again[i]!.kind === "ended");
    const freedBytes = await budget.release(orgId, stale);
    if (stale.length) logger.warn({ orgId, calls: stale.length, bytes: freedBytes }, "freed ended calls still counted as queued");
    return live;
  }

  /** Whether each call is still live (its job exists and has not ended) and when it was accepted. */
  private async find(callIds: string[]): Promise<Found[]> {
    if (!callIds.length) return [];
    const { redis, keys } = this.deps;
    const pipeline = redis.pipeline();
    for (const callId of callIds) {
      pipeline.hmget(keys.job(callId), "timestamp", JOB_FIELDS.state);
      pipeline.exists(keys.call(callId));
    }
    const replies = (await pipeline.exec())!.map(([error, reply]) => {
      if (error) throw error;
      return reply;
    });
    return callIds.map((_, i): Found => {
      const [timestamp, state] = replies[2 * i] as (string | null)[];
      const finished = replies[2 * i + 1] as number;
      if (finished || !timestamp || state === ROLLED_BACK || !NON_TERMINAL.has(state ?? null)) return { kind: "ended" };
      return { kind: "live", acceptedAt: Number(timestamp) };
    });
  }

  /** Ends calls left non-terminal past their retention (a lane no worker serves any more, a lost job). */
  private async expireOverdue(orgId: string, callIds: string[]): Promise<void> {
    const { records, queues, logger } = this.deps;
    if (!callIds.length) return;
    const expired: FinalOutcome = { state: "expired", error: "not sent within the queue retention (6 h)" };
    await Promise.all(
      callIds.map(async (callId) => {
        const lane = laneOf(callId, orgId);
        await records.finish(callId, orgId, lane, expired);
        // A job a worker still holds cannot be removed: that worker finds the call ended and completes it.
        await queues.get(lane).remove(splitCallId(callId)[1]).catch(() => undefined);
      }),
    );
    logger.warn({ orgId, calls: callIds.length }, "expired calls left non-terminal past their retention");
  }
}

function laneOf(callId: string, orgId: string): Lane {
  const versionId = versionOfCall(callId);
  return versionId ? throttledLane(versionId) : unthrottledLane(orgId);
}
