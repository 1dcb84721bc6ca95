import type { JobType, Queue } from "bullmq";
import { masters, underLock, type RedisClient } from "../../shared/redis.js";
import type { Logger } from "../../shared/logger.js";
import type { FinalOutcome } from "../call-store.js";
import { CAPPING_SERVICES } from "../capping-runtimes.js";
import { callIdOf, cappedLane, throttledLane, type Lane, type LimitedLane } from "../keys.js";
import type { CallJob } from "../queues.js";
import type { RuntimeStores } from "../runtime-stores.js";

const PAGE = 1000;
const PENDING_STATES = ["wait", "prioritized", "delayed"] as const;
/** How long past its retention a call may stay active (being sent) before it is taken for lost. */
const OVERDUE_AFTER_MS = 60_000;

/**
 * Housekeeping any worker process may run; a Redis lock makes each pass run in one process at a time.
 * - Expiry: calls still waiting after the retention are removed from their queue and marked `expired`,
 *   so they hold no memory and take no rate slot.
 * - Drain end: a draining runtime version (or capping runtime) past its drainUntil marks its waiting calls `dropped`;
 *   once no worker holds one of its calls (those end `dropped` too, and complete their jobs), or a lock duration
 *   later (a crashed worker's), its queues, every Redis key it owns but its finished calls' records and infos (those
 *   expire with the records), and its database row are deleted.
 * - Unthrottled lanes that can no longer hold a call are forgotten.
 */
export class Sweeper {
  constructor(
    private readonly deps: RuntimeStores & {
      logger: Logger;
      retentionMs: number;
      /** How long a worker's claim on a call lasts: after it, a call still active has lost its worker. */
      lockMs: number;
    },
  ) {}

  /** One pass over `lanes`; returns without doing anything when another process holds the lock. */
  async sweep(lanes: Lane[], lockMs: number): Promise<void> {
    const { redis, keys } = this.deps;
    await underLock(redis, keys.lock("sweep"), lockMs, async () => {
      for (const lane of lanes) await this.expire(lane);
      await this.finishDrains();
      await this.deps.unthrottled.prune();
    });
  }

  /**
   * Expires the calls waiting past the retention. New calls join the head of the wait list, so the expired ones are
   * at its tail; deferred calls (the delayed set, ordered by when they may run) are all looked at. A call still
   * active a minute past its retention lost its worker (whose lock a live worker of this lane has not taken back):
   * it ends `expired` too, so none stays non-terminal (CONTRACT §10); its job is left to whoever holds it.
   */
  private async expire(lane: Lane): Promise<void> {
    const { queues, redis } = this.deps;
    const queue = queues.get(lane);
    const expired: FinalOutcome = { state: "expired", error: "not sent within the queue retention (6 h)" };
    const acceptedBefore = Date.now() - this.deps.retentionMs;
    const isExpired = async (ids: string[]) => {
      const stamps = await Promise.all(ids.map((id) => redis.hget(queue.toKey(id), "timestamp")));
      return ids.filter((_, i) => stamps[i] !== null && Number(stamps[i]) <= acceptedBefore);
    };
    for (;;) {
      const oldest = await queue.getRanges(["wait"], 0, PAGE - 1, true);
      const ids = await isExpired(oldest);
      const removed = await this.end(lane, ids, expired);
      if (ids.length < PAGE || removed === 0) break;
    }
    await this.end(lane, await isExpired(await jobIds(queue, ["delayed"])), expired);
    const overdueBefore = acceptedBefore - Math.min(OVERDUE_AFTER_MS, this.deps.retentionMs);
    const active = await jobIds(queue, ["active"]);
    const stamps = await Promise.all(active.map((id) => redis.hget(queue.toKey(id), "timestamp")));
    const overdue = active.filter((_, i) => stamps[i] !== null && Number(stamps[i]) <= overdueBefore);
    await this.end(lane, overdue, expired, { keepJobs: true });
  }

  /** Ends the drains that are over: the throttling versions', and the capping runtimes' (one lane per service). */
  private async finishDrains(): Promise<void> {
    const { db, logger } = this.deps;
    const now = new Date();
    const ended = { status: "draining" as const, drainUntil: { lte: now } };
    for (const version of await db.runtimeVersion.findMany({ where: ended })) {
      if (!(await this.finishDrain([throttledLane(version.id)], version.drainUntil!))) continue;
      await db.runtimeVersion.delete({ where: { id: version.id } });
      logger.info({ runtimeVersionId: version.id, version: version.version }, "runtime version drained and deleted");
    }
    for (const runtime of await db.cappingRuntime.findMany({ where: ended })) {
      const lanes = CAPPING_SERVICES.map((service) => cappedLane(runtime.id, service));
      if (!(await this.finishDrain(lanes, runtime.drainUntil!))) continue;
      await db.cappingRuntime.delete({ where: { id: runtime.id } });
      logger.info({ cappingRuntimeId: runtime.id, configUid: runtime.configUid }, "capping runtime drained and deleted");
    }
  }

  /**
   * Drops the lanes' calls still waiting and deletes their queues and keys, once no worker holds one of their calls;
   * false while one does (try again next pass).
   */
  private async finishDrain(lanes: LimitedLane[], drainUntil: Date): Promise<boolean> {
    const { redis, keys, queues, records } = this.deps;
    const dropped: FinalOutcome = { state: "dropped", error: "runtime version finished draining" };
    for (const lane of lanes) {
      const queue = queues.get(lane);
      // A page at a time (ending a call removes its job): a drained backlog can be a million calls.
      for (;;) {
        const pending = await queue.getRanges([...PENDING_STATES], 0, PAGE - 1, true);
        const removed = await this.end(lane, pending, dropped);
        if (pending.length < PAGE || removed === 0) break;
      }
      const active = await jobIds(queue, ["active"]);
      // Workers drop the calls they hold themselves and complete their jobs; deleting the queue under them first
      // would fail those completions.
      if (active.length && Date.now() < drainUntil.getTime() + this.deps.lockMs) return false;
      await this.end(lane, active, dropped, { keepJobs: true });
    }
    for (const lane of lanes) {
      await queues.get(lane).obliterate({ force: true });
      await queues.forget(lane);
      for (const pattern of keys.lanePatterns(lane)) await deleteByPattern(redis, pattern);
      await records.expireLaneInfo(lane);
    }
    return true;
  }

  /**
   * Ends the lane's calls of these job ids with `outcome`, then removes their jobs (unless the queue is about to be
   * deleted as a whole). Jobs that were no calls (rolled back) are removed all the same. Returns how many jobs it
   * removed.
   */
  private async end(lane: Lane, jobIdsToEnd: string[], outcome: FinalOutcome, options: { keepJobs?: boolean } = {}): Promise<number> {
    if (!jobIdsToEnd.length) return 0;
    const { records, queues } = this.deps;
    const orgId = await records.ownerOf(lane);
    // Issued together: the commands share the connection back to back instead of waiting on each other.
    if (orgId) await Promise.all(jobIdsToEnd.map((id) => records.finish(callIdOf(lane, id), orgId, lane, outcome)));
    if (options.keepJobs) return 0;
    const queue = queues.get(lane);
    const removed = await Promise.all(jobIdsToEnd.map((id) => queue.remove(id)));
    return removed.filter((code) => code === 1).length;
  }
}

/** Every job id of the queue in these states (ids only: a job's data can be 1 MB). */
async function jobIds(queue: Queue<CallJob>, states: readonly JobType[]): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; ; start += PAGE) {
    const page = await queue.getRanges([...states], start, start + PAGE - 1, true);
    ids.push(...page);
    if (page.length < PAGE) return ids;
  }
}

/** Deletes the keys matching `pattern` on every master. The pattern names one hash tag: each batch is one slot. */
async function deleteByPattern(redis: RedisClient, pattern: string): Promise<void> {
  for (const node of masters(redis)) {
    let cursor = "0";
    do {
      const [next, found] = await node.scan(cursor, "MATCH", pattern, "COUNT", 1000);
      cursor = next;
      if (found.length) await node.unlink(...found);
    } while (cursor !== "0");
  }
}
