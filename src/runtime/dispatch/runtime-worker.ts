import { randomUUID } from "node:crypto";
import { Worker, type Job } from "bullmq";
import { Redis, type RedisOptions } from "ioredis";
import type { Db } from "../../db/prisma.js";
import type { Logger } from "../../shared/logger.js";
import type { CallDispatcher } from "./dispatcher.js";
import { UNTHROTTLED, type Lane, type RuntimeKeys } from "../keys.js";
import { BOOKING_HORIZON_MS, type Pacer } from "./pacer.js";
import type { CallJob, QueuedCall } from "../queues.js";
import type { RuntimeSettings } from "../settings.js";
import type { Sweeper } from "./sweeper.js";
import { heartbeatKey, HEARTBEAT_TTL_MS } from "../worker-heartbeats.js";

const SYNC_INTERVAL_MS = 500;
const HEARTBEAT_INTERVAL_MS = HEARTBEAT_TTL_MS / 3;
const MAX_SWEEP_INTERVAL_MS = 10_000;
/** Time a call spends being sent, on top of its wait for the slot, when sizing a lane's concurrency. */
const IN_FLIGHT_ALLOWANCE_MS = 100;


export interface RuntimeWorkerDeps {
  db: Db;
  redis: Redis;
  redisUrl: string;
  keys: RuntimeKeys;
  pacer: Pacer;
  dispatcher: CallDispatcher;
  sweeper: Sweeper;
  settings: RuntimeSettings;
  logger: Logger;
  redisPrefix: string;
}

/**
 * The worker half (SERVICES=worker). Every 500 ms it reads the runtime versions from Postgres, keeps one BullMQ
 * worker per queue (each version's, plus the unthrottled one) and republishes each version's rate, so an update
 * takes effect within a second even if the API's own write was lost. It also beats a heartbeat and sweeps.
 */
export class RuntimeWorker {
  readonly id = `${process.pid}-${randomUUID().slice(0, 8)}`;
  private readonly workers = new Map<string, { worker: Worker<CallJob>; connection: Redis }>();
  /** Runtime versions as of the last sync: id → drainUntil (ms), undefined while active. */
  private readonly versions = new Map<string, number | undefined>();
  private readonly timers: NodeJS.Timeout[] = [];
  private syncing: Promise<void> = Promise.resolve();

  constructor(private readonly deps: RuntimeWorkerDeps) {}

  /** Whether a lane's runtime version has finished draining (or no longer exists). */
  drained(lane: Lane): boolean {
    if (lane.kind === "unthrottled") return false;
    if (!this.versions.has(lane.runtimeVersionId)) return true;
    const drainUntil = this.versions.get(lane.runtimeVersionId);
    return drainUntil !== undefined && Date.now() >= drainUntil;
  }

  async start(): Promise<void> {
    this.ensureWorker(UNTHROTTLED);
    await this.sync();
    await this.beat();
    const { retentionMs, drainMs } = this.deps.settings;
    const sweepEvery = Math.min(MAX_SWEEP_INTERVAL_MS, Math.max(100, Math.min(retentionMs, drainMs) / 4));
    this.every(SYNC_INTERVAL_MS, () => (this.syncing = this.sync()));
    this.every(HEARTBEAT_INTERVAL_MS, () => this.beat());
    this.every(sweepEvery, () => this.deps.sweeper.sweep(this.lanes(), Math.max(sweepEvery * 2, 5000)));
    this.deps.logger.info({ workerId: this.id }, "runtime worker started");
  }

  /** Stops taking calls; calls in flight get `graceMs` to finish, then return to the queue for another worker. */
  async stop(graceMs: number): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    await this.syncing;
    const entries = [...this.workers.values()];
    this.workers.clear();
    const graceful = Promise.all(entries.map(({ worker }) => worker.close()));
    const timeout = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), graceMs).unref());
    if ((await Promise.race([graceful, timeout])) === "timeout") {
      await Promise.all(entries.map(({ worker }) => worker.close(true)));
    }
    await Promise.all(entries.map(({ connection }) => connection.quit().catch(() => connection.disconnect())));
    await this.deps.redis.zrem(heartbeatKey(this.deps.redisPrefix), this.id).catch(() => undefined);
  }

  private every(ms: number, task: () => Promise<unknown>): void {
    this.timers.push(
      setInterval(() => {
        task().catch((error: unknown) => this.deps.logger.error({ err: error }, "runtime worker task failed"));
      }, ms),
    );
  }

  private lanes(): Lane[] {
    return [UNTHROTTLED, ...[...this.versions.keys()].map((id): Lane => ({ kind: "throttled", runtimeVersionId: id }))];
  }

  private async sync(): Promise<void> {
    const rows = await this.deps.db.runtimeVersion.findMany({ select: { id: true, maxThroughput: true, drainUntil: true } });
    const seen = new Set<string>();
    const rates = this.deps.redis.pipeline();
    for (const row of rows) {
      seen.add(row.id);
      this.versions.set(row.id, row.drainUntil?.getTime());
      const lane: Lane = { kind: "throttled", runtimeVersionId: row.id };
      // A drained version's keys are being deleted by the sweeper: writing its rate again would leave one behind.
      if (this.drained(lane)) {
        await this.closeWorker(this.deps.keys.queueName(lane), true);
        continue;
      }
      rates.set(this.deps.keys.rate(row.id), String(row.maxThroughput));
      this.ensureWorker(lane).concurrency = this.concurrencyFor(row.maxThroughput);
    }
    await rates.exec();
    for (const id of [...this.versions.keys()].filter((id) => !seen.has(id))) {
      this.versions.delete(id);
      await this.closeWorker(this.deps.keys.queueName({ kind: "throttled", runtimeVersionId: id }), true);
    }
  }

  /**
   * A throttled lane needs only as many calls in hand as it can send while they wait for their booked slot
   * (plus the send itself); more would just poll the pacer and load the event loop.
   */
  private concurrencyFor(rate: number): number {
    return Math.min(this.deps.settings.concurrency, Math.ceil((rate * (BOOKING_HORIZON_MS + IN_FLIGHT_ALLOWANCE_MS)) / 1000) + 4);
  }

  private ensureWorker(lane: Lane): Worker<CallJob> {
    const { keys, settings, dispatcher, logger } = this.deps;
    const name = keys.queueName(lane);
    const existing = this.workers.get(name);
    if (existing) return existing.worker;
    // BullMQ workers need their own connection, with no per-command retry limit.
    const connection = new Redis(this.deps.redisUrl, { maxRetriesPerRequest: null } satisfies RedisOptions);
    const queued = (job: Job<CallJob>): QueuedCall => ({ ...job.data, callId: job.id!, lane, acceptedAt: job.timestamp });
    const worker = new Worker<CallJob>(name, (job) => dispatcher.dispatch(queued(job)), {
      connection,
      prefix: keys.bullPrefix,
      concurrency: settings.concurrency,
      lockDuration: settings.lockMs,
      stalledInterval: settings.lockMs,
      maxStalledCount: 10,
      removeOnComplete: { count: 0 },
      removeOnFail: { count: 0 },
    });
    worker.on("error", (error) => logger.warn({ err: error, queue: name }, "queue worker error"));
    worker.on("failed", (job, error) => {
      if (!job) return;
      const final = job.attemptsMade >= (job.opts.attempts ?? 1);
      logger.error({ err: error, callId: job.id, final }, "call dispatch crashed");
      if (final) void dispatcher.abandon(queued(job), error).catch(() => undefined);
    });
    this.workers.set(name, { worker, connection });
    return worker;
  }

  /** `force`: do not wait for active calls (their version is gone; they will be dropped or redelivered). */
  private async closeWorker(name: string, force: boolean): Promise<void> {
    const entry = this.workers.get(name);
    if (!entry) return;
    this.workers.delete(name);
    await entry.worker.close(force);
    await entry.connection.quit().catch(() => entry.connection.disconnect());
  }

  private async beat(): Promise<void> {
    const key = heartbeatKey(this.deps.redisPrefix);
    const now = Date.now();
    await this.deps.redis.multi().zadd(key, now, this.id).zremrangebyscore(key, 0, now - HEARTBEAT_TTL_MS * 4).exec();
  }
}
