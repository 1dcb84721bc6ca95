import { Queue } from "bullmq";
import type { RedisClient } from "../shared/redis.js";
import type { Lane, RuntimeKeys } from "./keys.js";

/**
 * What a queued job carries: what the worker needs to send the call without another lookup, and nothing it can
 * tell otherwise (every byte here is kept in Redis per queued call). The job's id is the callId, its queue the lane.
 */
export interface CallJob {
  orgId: string;
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
  callbackUrl?: string;
}

/** A job as the dispatcher works on it: its data plus what its BullMQ envelope says. */
export interface QueuedCall extends CallJob {
  callId: string;
  lane: Lane;
  /** When the call was accepted (ms since epoch; the job's timestamp). */
  acceptedAt: number;
}

/** Producer-side BullMQ queues, one per lane, created on first use and sharing one Redis connection. */
export class RuntimeQueues {
  private readonly queues = new Map<string, Queue<CallJob>>();

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RuntimeKeys,
  ) {}

  get(lane: Lane): Queue<CallJob> {
    const name = this.keys.queueName(lane);
    let queue = this.queues.get(name);
    if (!queue) {
      // No meta write on creation: reading a lane (metrics, status) must not recreate keys of a deleted version.
      queue = new Queue<CallJob>(name, { connection: this.redis, prefix: this.keys.bullPrefix, skipMetasUpdate: true });
      // The shared connection's owner already logs its errors; without a listener BullMQ prints each to stderr.
      queue.on("error", () => undefined);
      this.queues.set(name, queue);
    }
    return queue;
  }

  /** Forgets a lane's queue object (its Redis keys are removed separately). */
  async forget(lane: Lane): Promise<void> {
    const name = this.keys.queueName(lane);
    await this.queues.get(name)?.close();
    this.queues.delete(name);
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
    this.queues.clear();
  }
}
