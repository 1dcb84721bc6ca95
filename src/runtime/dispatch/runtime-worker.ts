import { randomUUID } from "node:crypto";
import type { Logger } from "../../shared/logger.js";
import { CAPPING_SERVICES, type CappingLimits, type CappingRuntimeValues } from "../capping-runtimes.js";
import { cappedLane, throttledLane, type Lane, type LimitedLane } from "../keys.js";
import { cappingLimit, cappingRate, throttlingLimit } from "../limits/lane-limits.js";
import type { WindowLimit } from "../../shared/sliding-window.js";
import type { RuntimeStores } from "../runtime-stores.js";
import type { RuntimeSettings } from "../settings.js";
import type { UnthrottledLaneEntry } from "../unthrottled-lanes.js";
import { heartbeatKey, HEARTBEAT_TTL_MS } from "../worker-heartbeats.js";
import { IN_FLIGHT_PUBLISH_MS, type InFlightSends } from "../in-flight.js";
import type { CallbackDeliverer } from "../callbacks/callback-deliverer.js";
import type { LaneWorkers } from "./lane-workers.js";
import { BOOKING_HORIZON_MS, type Pacer } from "./pacer.js";
import type { Reconciler } from "./reconciler.js";
import type { Sweeper } from "./sweeper.js";

const SYNC_INTERVAL_MS = 500;
/**
 * How often to look for unthrottled lanes that just received calls: a lane's first call waits for this (plus its
 * worker's start), so it is short; the look reads only lanes touched in the last LANE_LOOKBACK_MS.
 */
const NEW_LANE_INTERVAL_MS = 100;
const LANE_LOOKBACK_MS = 5000;
const HEARTBEAT_INTERVAL_MS = HEARTBEAT_TTL_MS / 3;
const MAX_SWEEP_INTERVAL_MS = 10_000;
/** A count a crash left too high is corrected within this plus the reconciler's grace periods (CONTRACT §10: 1 min). */
const MAX_RECONCILE_INTERVAL_MS = 20_000;
/** Time a call spends being sent, on top of its wait for the slot, when sizing a lane's concurrency. */
const IN_FLIGHT_ALLOWANCE_MS = 100;
/** An unthrottled lane whose worker has had nothing to do for this long, and whose queue is empty, is closed. */
const UNTHROTTLED_IDLE_MS = 60_000;
const PENDING_TYPES = ["wait", "delayed", "prioritized", "active"] as const;

export interface RuntimeWorkerDeps extends Omit<RuntimeStores, "records"> {
  workers: LaneWorkers;
  pacer: Pacer;
  sweeper: Sweeper;
  reconciler: Reconciler;
  deliverer: CallbackDeliverer;
  inFlight: InFlightSends;
  settings: RuntimeSettings;
  logger: Logger;
  redisPrefix: string;
}

/**
 * The worker half (SERVICES=worker). Every 500 ms it reads the runtime versions from Postgres and the orgs'
 * unthrottled lanes from Redis, and keeps one BullMQ worker per lane with work (each version's queue, each org's
 * unthrottled queue); it republishes each version's rate, so an update takes effect within a second even if the
 * API's own write was lost. It also beats a heartbeat, publishes its sends in progress, sweeps, reconciles the orgs'
 * queued counts and delivers callbacks.
 */
export class RuntimeWorker {
  readonly id = `${process.pid}-${randomUUID().slice(0, 8)}`;
  /** Throttling runtime versions as of the last sync, by id: drainUntil (ms, undefined while active) and rate. */
  private readonly versions = new Map<string, { drainUntil?: number; maxThroughput: number }>();
  /** Capping runtimes as of the last sync, by id: drainUntil (ms, undefined while active) and limits per service. */
  private readonly capping = new Map<string, { drainUntil?: number; services: CappingRuntimeValues["services"] }>();
  /** Unthrottled lanes that may hold calls, as of the last sync: org → when a call last joined. */
  private unthrottled: UnthrottledLaneEntry[] = [];
  /** Orgs whose unthrottled lane was found empty: the `joinedAt` seen then. A later call reopens the lane. */
  private readonly emptyAt = new Map<string, number>();
  private readonly timers: NodeJS.Timeout[] = [];
  private syncing: Promise<void> = Promise.resolve();

  constructor(private readonly deps: RuntimeWorkerDeps) {}

  /** Whether a lane's runtime version (or capping runtime) has finished draining, or no longer exists. */
  drained(lane: Lane): boolean {
    if (lane.kind === "unthrottled") return false;
    const runtime = lane.kind === "throttled" ? this.versions.get(lane.runtimeVersionId) : this.capping.get(lane.cappingRuntimeId);
    return !runtime || (runtime.drainUntil !== undefined && Date.now() >= runtime.drainUntil);
  }

  /** The limit a throttled or capped lane enforces on the capped calls that obey it, unless it drained. */
  limitsOf(lane: LimitedLane): WindowLimit | undefined {
    if (this.drained(lane)) return undefined;
    if (lane.kind === "throttled") return throttlingLimit(this.deps.keys, lane, this.versions.get(lane.runtimeVersionId)!.maxThroughput);
    const limits = this.capping.get(lane.cappingRuntimeId)?.services[lane.service];
    return limits && cappingLimit(this.deps.keys, lane, limits, this.deps.settings.cappingBuckets);
  }

  async start(): Promise<void> {
    await this.sync();
    await this.beat();
    const { retentionMs, drainMs } = this.deps.settings;
    const sweepEvery = Math.min(MAX_SWEEP_INTERVAL_MS, Math.max(100, Math.min(retentionMs, drainMs) / 4));
    this.every(SYNC_INTERVAL_MS, () => (this.syncing = this.sync()));
    this.every(NEW_LANE_INTERVAL_MS, async () => this.openLanes(await this.deps.unthrottled.joinedSince(Date.now() - LANE_LOOKBACK_MS)));
    this.every(HEARTBEAT_INTERVAL_MS, () => this.beat());
    this.every(IN_FLIGHT_PUBLISH_MS, () => this.deps.inFlight.publish(this.id));
    this.deps.deliverer.start();
    this.every(sweepEvery, () => this.deps.sweeper.sweep(this.lanes(), Math.max(sweepEvery * 2, 5000)));
    const reconcileEvery = Math.min(MAX_RECONCILE_INTERVAL_MS, Math.max(500, retentionMs / 4));
    this.every(reconcileEvery, () => this.deps.reconciler.reconcile(Math.max(reconcileEvery * 2, 10_000)));
    this.deps.logger.info({ workerId: this.id }, "runtime worker started");
  }

  /** Stops taking calls; calls in flight get `graceMs` to finish, then return to the queue for another worker. */
  async stop(graceMs: number): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    await this.syncing;
    await this.deps.workers.closeAll(graceMs);
    await this.deps.deliverer.stop();
    await this.deps.inFlight.withdraw(this.id).catch(() => undefined);
    await this.deps.redis.zrem(heartbeatKey(this.deps.redisPrefix), this.id).catch(() => undefined);
  }

  private every(ms: number, task: () => Promise<unknown>): void {
    this.timers.push(
      setInterval(() => {
        task().catch((error: unknown) => this.deps.logger.error({ err: error }, "runtime worker task failed"));
      }, ms),
    );
  }

  /**
   * Every lane that may hold calls, but for drained versions: the sweeper's scope for expiry. A drained version's
   * calls are dropped and its keys deleted by the sweeper's drain pass; expiring in it as well could write its queue's
   * keys again after that deletion.
   */
  private lanes(): Lane[] {
    const versions = [...this.versions.keys()].map(throttledLane);
    const capped = [...this.capping.keys()].flatMap((id) => CAPPING_SERVICES.map((service) => cappedLane(id, service)));
    return [...this.unthrottled.map((entry) => entry.lane), ...[...versions, ...capped].filter((lane) => !this.drained(lane))];
  }

  private async sync(): Promise<void> {
    await Promise.all([this.syncVersions(), this.syncCapping(), this.syncUnthrottled()]);
  }

  private async syncVersions(): Promise<void> {
    const { db, redis, keys, workers } = this.deps;
    const rows = await db.runtimeVersion.findMany({ select: { id: true, maxThroughput: true, drainUntil: true } });
    const seen = new Set<string>();
    // Issued together (auto-pipelined, per node on a cluster): each version's rate lives in its own slot.
    const rates: Promise<unknown>[] = [];
    for (const row of rows) {
      seen.add(row.id);
      this.versions.set(row.id, { maxThroughput: row.maxThroughput, ...(row.drainUntil ? { drainUntil: row.drainUntil.getTime() } : {}) });
      const lane = throttledLane(row.id);
      // A drained version's keys are being deleted by the sweeper: writing its rate again would leave one behind. Its
      // worker takes no more calls; those it holds end `dropped` and complete their jobs (the sweeper waits for them).
      if (this.drained(lane)) {
        workers.close(lane, false).catch((error: unknown) => this.deps.logger.warn({ err: error }, "closing a drained lane's worker failed"));
        continue;
      }
      rates.push(redis.set(keys.rate(lane), String(row.maxThroughput)));
      workers.ensure(lane, this.concurrencyFor(row.maxThroughput));
    }
    await Promise.all(rates);
    for (const id of [...this.versions.keys()].filter((id) => !seen.has(id))) {
      this.versions.delete(id);
      await workers.close(throttledLane(id), true);
    }
  }

  /**
   * The capping runtimes: a worker for each deployed service of each (its queue drains as a throttled one's does),
   * paced to its limits' rate, which is republished each time as the versions' rates are.
   */
  private async syncCapping(): Promise<void> {
    const { db, workers } = this.deps;
    const rows = await db.cappingRuntime.findMany({ select: { id: true, drainUntil: true, services: true } });
    const seen = new Set<string>();
    const rates: Promise<unknown>[] = [];
    for (const row of rows) {
      seen.add(row.id);
      // A service a redeploy removed keeps its last limits here: its queued calls are still sent under them.
      const services = { ...this.capping.get(row.id)?.services, ...(row.services as CappingRuntimeValues["services"]) };
      this.capping.set(row.id, { services, ...(row.drainUntil ? { drainUntil: row.drainUntil.getTime() } : {}) });
      for (const service of CAPPING_SERVICES) {
        const lane = cappedLane(row.id, service);
        const limits = services[service];
        if (this.drained(lane) || !limits) {
          if (workers.has(lane)) workers.close(lane, false).catch((error: unknown) => this.deps.logger.warn({ err: error }, "closing a drained lane's worker failed"));
          continue;
        }
        rates.push(this.deps.pacer.setRate(lane, cappingRate(limits, this.deps.settings.cappingBuckets)));
        workers.ensure(lane, this.cappedConcurrency(limits));
      }
    }
    await Promise.all(rates);
    for (const id of [...this.capping.keys()].filter((id) => !seen.has(id))) {
      this.capping.delete(id);
      await Promise.all(CAPPING_SERVICES.map((service) => workers.close(cappedLane(id, service), true)));
    }
  }

  /** As a throttled lane's, and at least one more than its connection cap, so that the cap and not the worker limits it. */
  private cappedConcurrency(limits: CappingLimits): number {
    const byRate = this.concurrencyFor(cappingRate(limits, this.deps.settings.cappingBuckets));
    return Math.min(this.deps.settings.concurrency, Math.max(byRate, (limits.maxHttpConnections ?? 0) + 1));
  }

  /**
   * Every unthrottled lane that may hold calls: open a worker for those with work (see openLanes), and close the
   * workers of lanes idle for a minute with nothing queued, so a process holds connections only for the orgs that
   * are sending.
   */
  private async syncUnthrottled(): Promise<void> {
    const { workers, queues } = this.deps;
    this.unthrottled = await this.deps.unthrottled.live();
    await this.openLanes(this.unthrottled);
    const idleSince = Date.now() - UNTHROTTLED_IDLE_MS;
    await Promise.all(
      this.unthrottled.map(async ({ lane, joinedAt }) => {
        const lastActive = workers.lastActive(lane);
        if (lastActive === undefined || lastActive > idleSince || joinedAt > idleSince || (await this.hasPending(lane))) return;
        this.emptyAt.set(lane.orgId, joinedAt);
        await workers.close(lane, false);
        await queues.forget(lane);
      }),
    );
  }

  /** Opens a worker for each lane that has had calls since it was last found empty. */
  private async openLanes(entries: UnthrottledLaneEntry[]): Promise<void> {
    const idleSince = Date.now() - UNTHROTTLED_IDLE_MS;
    await Promise.all(
      entries.map(async ({ lane, joinedAt }) => {
        if (this.deps.workers.has(lane) || this.emptyAt.get(lane.orgId) === joinedAt) return;
        // A lane with no call for a while (e.g. first seen after a restart) is opened only if it has work.
        if (joinedAt < idleSince && !(await this.hasPending(lane))) return void this.emptyAt.set(lane.orgId, joinedAt);
        this.emptyAt.delete(lane.orgId);
        this.deps.workers.ensure(lane, this.deps.settings.concurrency);
      }),
    );
  }

  private async hasPending(lane: Lane): Promise<boolean> {
    const counts = await this.deps.queues.get(lane).getJobCounts(...PENDING_TYPES);
    return PENDING_TYPES.some((type) => (counts[type] ?? 0) > 0);
  }

  /**
   * A throttled lane needs only as many calls in hand as it can send while they wait for their booked slot
   * (plus the send itself); more would just poll the pacer and load the event loop.
   */
  private concurrencyFor(rate: number): number {
    return Math.min(this.deps.settings.concurrency, Math.ceil((rate * (BOOKING_HORIZON_MS + IN_FLIGHT_ALLOWANCE_MS)) / 1000) + 4);
  }

  private async beat(): Promise<void> {
    const key = heartbeatKey(this.deps.redisPrefix);
    const now = Date.now();
    await this.deps.redis.multi().zadd(key, now, this.id).zremrangebyscore(key, 0, now - HEARTBEAT_TTL_MS * 4).exec();
  }
}
