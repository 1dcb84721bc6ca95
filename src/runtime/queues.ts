import { Queue, type JobsOptions } from "bullmq";
import type { RedisClient } from "../shared/redis.js";
import { laneId, laneOfId, type CappedLane, type Lane, type RuntimeKeys, type ThrottledLane } from "./keys.js";

/**
 * A queued call is one BullMQ job, which is also its record until it ends (see CallStore): every byte here is kept
 * in Redis per queued call. Its id is the call's own id (`splitCallId`), its queue the lane, its name says what the
 * call is (`jobName`) and its data what the worker needs besides to send it without another lookup.
 */
export interface CallJob {
  orgId: string;
  headers?: Record<string, string>;
  body?: string;
  /** Absent: the default (DEFAULT_CALL_TIMEOUT_MS). */
  timeoutMs?: number;
}

/** What a job's name holds: read by the record and by scripts, so it does not have to parse the data. */
export interface CallSummary {
  method: string;
  url: string;
  /** What the call counts against its org's byte budget (method, URL, headers and body), freed when it ends. */
  bytes: number;
  /** Where its final record is POSTed (CONTRACT §10). */
  callbackUrl?: string;
  /** The call it re-submits (`POST /runtime/calls/{callId}/replay`). */
  replayOf?: string;
  /** Lanes besides its own whose limits the call obeys (a capped call's other matching configs, CONTRACT §12). */
  alsoLimitedBy?: (ThrottledLane | CappedLane)[];
}

const ABSENT = "-";

/** The lanes of a job name's last field (lane ids, comma-separated). */
export function parseLaneIds(field: string | undefined): (ThrottledLane | CappedLane)[] {
  if (!field || field === ABSENT) return [];
  return field.split(",").flatMap((id) => laneOfId(id) ?? []);
}

/**
 * `<method> <url> <bytes> <callbackUrl|-> <replayOf|-> <lane ids|->`: a parsed URL holds no space, nor do call or
 * lane ids, so the name splits on spaces (CallStore's FINISH script splits it the same way).
 */
export const jobName = ({ method, url, bytes, callbackUrl, replayOf, alsoLimitedBy }: CallSummary): string =>
  `${method} ${url} ${bytes} ${callbackUrl ?? ABSENT} ${replayOf ?? ABSENT} ${alsoLimitedBy?.length ? alsoLimitedBy.map(laneId).join(",") : ABSENT}`;

export function parseJobName(name: string): CallSummary {
  const [method = "", url = "", bytes = "0", callbackUrl = ABSENT, replayOf = ABSENT, also] = name.split(" ");
  const alsoLimitedBy = parseLaneIds(also);
  return {
    method,
    url,
    bytes: Number(bytes),
    ...(callbackUrl !== ABSENT ? { callbackUrl } : {}),
    ...(replayOf !== ABSENT ? { replayOf } : {}),
    ...(alsoLimitedBy.length ? { alsoLimitedBy } : {}),
  };
}

/** A job as the dispatcher works on it: its data plus what its name and BullMQ envelope say. */
export interface QueuedCall extends CallJob {
  timeoutMs: number;
  callId: string;
  lane: Lane;
  /** Lanes besides its own whose limits it obeys. */
  alsoLimitedBy: (ThrottledLane | CappedLane)[];
  method: string;
  url: string;
  /** When the call was accepted (ms since epoch; the job's timestamp). */
  acceptedAt: number;
}

/** BullMQ trims a queue's event stream to about this many entries. */
const EVENTS_KEPT = 100;

/**
 * Producer-side BullMQ queues, one per lane, created on first use and sharing one Redis connection, which should
 * be theirs alone and not auto-pipelined (see the composition root).
 */
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

  /**
   * Adds calls' jobs to a lane's queue. The queue's event stream is kept short: Sluice reads no BullMQ event, and
   * BullMQ's default keeps 10,000 per queue (about 100 B each, as much as the records of 700 calls).
   */
  async add(lane: Lane, jobs: { name: string; data: CallJob; opts: JobsOptions }[]): Promise<void> {
    await Promise.all([
      this.redis.hset(this.keys.queueKey(lane, "meta"), "opts.maxLenEvents", EVENTS_KEPT),
      this.get(lane).addBulk(jobs),
    ]);
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
