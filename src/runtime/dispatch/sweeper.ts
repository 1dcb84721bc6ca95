import type { JobType, Queue } from "bullmq";
import { masters, type RedisClient } from "../../shared/redis.js";
import type { Logger } from "../../shared/logger.js";
import type { FinalOutcome } from "../call-store.js";
import { throttledLane, type Lane } from "../keys.js";
import type { CallJob } from "../queues.js";
import type { RuntimeStores } from "../runtime-stores.js";

const PAGE = 1000;
const PENDING_STATES = ["wait", "prioritized", "delayed"] as const;

/**
 * Housekeeping any worker process may run; a Redis lock makes each pass run in one process at a time.
 * - Expiry: calls still waiting after the retention are removed from their queue and marked `expired`,
 *   so they hold no memory and take no rate slot.
 * - Drain end: a draining runtime version past its drainUntil marks its waiting calls `dropped`; once no worker holds
 *   one of its calls (those end `dropped` too, and complete their jobs), or a lock duration later (a crashed
 *   worker's), its queue, every Redis key it owns but its call records, and its database row are deleted.
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
    const lock = keys.lock("sweep");
    if ((await redis.set(lock, String(process.pid), "PX", lockMs, "NX")) !== "OK") return;
    try {
      for (const lane of lanes) await this.expire(lane);
      await this.finishDrains();
      await this.deps.unthrottled.prune();
    } finally {
      await redis.del(lock);
    }
  }

  private async expire(lane: Lane): Promise<void> {
    const queue = this.deps.queues.get(lane);
    for (const type of ["wait", "delayed"] as const) {
      for (;;) {
        const ids = await queue.clean(this.deps.retentionMs, PAGE, type);
        await this.end(lane, ids, { state: "expired", error: "not sent within the queue retention (6 h)" });
        if (ids.length < PAGE) break;
      }
    }
  }

  private async finishDrains(): Promise<void> {
    const { db, redis, keys, queues, logger } = this.deps;
    const ended = await db.runtimeVersion.findMany({ where: { status: "draining", drainUntil: { lte: new Date() } } });
    const dropped: FinalOutcome = { state: "dropped", error: "runtime version finished draining" };
    for (const version of ended) {
      const lane = throttledLane(version.id);
      const queue = queues.get(lane);
      await this.end(lane, await jobIds(queue, PENDING_STATES), dropped);
      const active = await jobIds(queue, ["active"]);
      // Workers drop the calls they hold themselves and complete their jobs; deleting the queue under them first
      // would fail those completions.
      if (active.length && Date.now() < version.drainUntil!.getTime() + this.deps.lockMs) continue;
      await this.end(lane, active, dropped);
      await queue.obliterate({ force: true });
      await queues.forget(lane);
      for (const pattern of keys.versionPatterns(version.id)) await deleteByPattern(redis, pattern);
      await db.runtimeVersion.delete({ where: { id: version.id } });
      logger.info({ runtimeVersionId: version.id, version: version.version }, "runtime version drained and deleted");
    }
  }

  private async end(lane: Lane, callIds: string[], outcome: FinalOutcome): Promise<void> {
    if (!callIds.length) return;
    const { redis, keys, records } = this.deps;
    const pipeline = redis.pipeline();
    for (const id of callIds) pipeline.hget(keys.call(id), "orgId");
    const owners = (await pipeline.exec())!.map(([, orgId]) => orgId as string | null);
    // Issued together: the commands share the connection back to back instead of waiting on each other.
    await Promise.all(callIds.map((callId, i) => (owners[i] ? records.finish(callId, owners[i], lane, outcome) : false)));
  }
}

async function jobIds(queue: Queue<CallJob>, states: readonly JobType[]): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; ; start += PAGE) {
    const jobs = await queue.getJobs([...states], start, start + PAGE - 1, true);
    ids.push(...jobs.flatMap((job) => (job?.id ? [job.id] : [])));
    if (jobs.length < PAGE) return ids;
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
