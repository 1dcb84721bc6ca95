import { DelayedError, Worker, type Job } from "bullmq";
import type { Logger } from "../../shared/logger.js";
import { DEFAULT_CALL_TIMEOUT_MS } from "../accept/call.schema.js";
import type { RedisClient } from "../../shared/redis.js";
import { callIdOf, laneId, type Lane, type RuntimeKeys } from "../keys.js";
import { parseJobName, type CallJob, type QueuedCall } from "../queues.js";
import type { RuntimeSettings } from "../settings.js";
import type { CallDispatcher } from "./dispatcher.js";

interface Entry {
  worker: Worker<CallJob>;
  /** When one of the lane's calls last started or ended in this process (ms). */
  activity: { lastActive: number };
}

/**
 * This process's BullMQ workers, one per lane, each with its own concurrency: a lane can only fill its own places,
 * so one org's backlog or slow target never takes the places another org's calls need (CONTRACT §11). They share
 * one command connection; BullMQ gives each its own blocking one.
 */
export class LaneWorkers {
  private readonly entries = new Map<string, Entry>();
  /** Workers being closed gracefully (their lanes' calls in flight finishing); closeAll waits for them too. */
  private readonly closing = new Set<Worker<CallJob>>();
  /** Set by closeAll: a sync still under way must not start workers after it. */
  private closed = false;

  constructor(
    private readonly deps: {
      /** The workers' command connection (owned from here on): BullMQ wants one with no per-command retry limit. */
      connection: RedisClient;
      keys: RuntimeKeys;
      settings: RuntimeSettings;
      dispatcher: CallDispatcher;
      logger: Logger;
    },
  ) {
    deps.connection.on("error", (error) => deps.logger.warn({ err: error }, "worker redis connection error"));
  }

  has(lane: Lane): boolean {
    return this.entries.has(laneId(lane));
  }

  /** When the lane's worker last started or ended a call (ms), or undefined if this process has none for it. */
  lastActive(lane: Lane): number | undefined {
    return this.entries.get(laneId(lane))?.activity.lastActive;
  }

  /** Starts a worker for the lane unless there is one; sets its concurrency either way. */
  ensure(lane: Lane, concurrency: number): void {
    if (this.closed) return;
    const existing = this.entries.get(laneId(lane));
    if (existing) {
      existing.worker.concurrency = concurrency;
      return;
    }
    const { keys, settings, dispatcher, logger } = this.deps;
    const name = keys.queueName(lane);
    const queued = (job: Job<CallJob>): QueuedCall => {
      const { method, url, alsoLimitedBy = [] } = parseJobName(job.name);
      return {
        timeoutMs: DEFAULT_CALL_TIMEOUT_MS,
        ...job.data,
        method,
        url,
        callId: callIdOf(lane, job.id!),
        lane,
        alsoLimitedBy,
        acceptedAt: job.timestamp,
      };
    };
    const activity = { lastActive: Date.now() };
    const worker = new Worker<CallJob>(
      name,
      async (job, token) => {
        activity.lastActive = Date.now();
        try {
          const result = await dispatcher.dispatch(queued(job));
          if (result.kind === "defer") {
            // Waits outside the worker (in BullMQ's delayed set) instead of holding one of the lane's places.
            await job.moveToDelayed(result.untilMs, token);
            throw new DelayedError();
          }
        } finally {
          activity.lastActive = Date.now();
        }
      },
      {
        connection: this.deps.connection,
        prefix: keys.bullPrefix,
        concurrency,
        lockDuration: settings.lockMs,
        stalledInterval: settings.lockMs,
        maxStalledCount: 10,
        removeOnComplete: { count: 0 },
        // Failed jobs are kept (no removeOnFail): one that failed for good holds the call's record, so the call is
        // finished first (below), then the job removed.
      },
    );
    worker.on("error", (error) => logger.warn({ err: error, queue: name }, "queue worker error"));
    worker.on("failed", (job, error) => {
      if (!job) return;
      const final = job.attemptsMade >= (job.opts.attempts ?? 1);
      logger.error({ err: error, callId: callIdOf(lane, job.id!), final }, "call dispatch crashed");
      if (final) void dispatcher.abandon(queued(job), error).then(() => job.remove()).catch(() => undefined);
    });
    this.entries.set(laneId(lane), { worker, activity });
  }

  /**
   * Stops taking the lane's calls. `force`: do not wait for the lane's active calls (they return to the queue when
   * their lock lapses); otherwise they finish first.
   */
  async close(lane: Lane, force: boolean): Promise<void> {
    const entry = this.entries.get(laneId(lane));
    if (!entry) return;
    this.entries.delete(laneId(lane));
    this.closing.add(entry.worker);
    try {
      await entry.worker.close(force);
    } finally {
      this.closing.delete(entry.worker);
    }
  }

  /** Stops every worker: calls in flight get `graceMs` to finish, then return to the queue for another process. */
  async closeAll(graceMs: number): Promise<void> {
    this.closed = true;
    const workers = [...[...this.entries.values()].map((entry) => entry.worker), ...this.closing];
    this.entries.clear();
    const graceful = Promise.all(workers.map((worker) => worker.close()));
    const timeout = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), graceMs).unref());
    if ((await Promise.race([graceful, timeout])) === "timeout") await Promise.all(workers.map((worker) => worker.close(true)));
    await this.deps.connection.quit().catch(() => this.deps.connection.disconnect());
  }
}
