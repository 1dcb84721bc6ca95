import { Queue } from "bullmq";
import { benchCalls, chunks, deployLimit, submitCalls, type BenchCall } from "../support/calls.js";
import { cpuMeter, rssBytes } from "../support/proc.js";
import type { Bench } from "../support/service.js";
import type { Sink } from "../support/sink.js";
import { rateReading, type RateReading } from "../support/stats.js";
import { startSluiceProcess } from "../../test/process/sluice-process.js";

export const BODY_BYTES = 200;

export interface BacklogRun extends RateReading {
  expected: number;
  /** CPU% (100 = one core) of each process while the backlog drained. */
  cpu: Record<string, number>;
  /** Largest RSS of each worker process while it drained, bytes. */
  workerRss: number[];
}

/** How long to wait for a backlog of `seconds` at `n`/s: twice that, plus start-up. */
const drainTimeoutMs = (seconds: number) => seconds * 2000 + 30_000;

/**
 * Sluice: deploys N/s for a new org (for each of `configs` new orgs, 1 unless said), queues `seconds` × N calls for
 * each through the call API, then starts `workers` worker processes and measures the arrivals at the sink while
 * they drain the backlog. With several configs the reading is of all their calls together, against configs × N.
 */
export async function sluiceBacklog(
  bench: Bench,
  sink: Sink,
  options: { n: number; seconds: number; workers: number; configs?: number; profileDir?: string },
): Promise<BacklogRun> {
  const { n, seconds, workers: count, configs = 1 } = options;
  const calls: BenchCall[] = [];
  for (let config = 0; config < configs; config += 1) {
    const tenant = await bench.createTenant();
    const prefix = `${sink.url}/sluice-${n}-${count}w-${config + 1}of${configs}/`;
    await deployLimit(bench, tenant, prefix, n);
    const own = benchCalls(prefix, n * seconds, BODY_BYTES);
    await submitCalls(bench, tenant, own, 1000);
    calls.push(...own);
  }

  const workers = await bench.startWorkers(count, options.profileDir);
  const pids = Object.fromEntries(workers.map((w, i) => [`worker${count > 1 ? i + 1 : ""}`, w.process.pid]));
  const watched = { ...pids, api: bench.api.process.pid, sink: sink.pid, ...bench.redisPids };
  const stopCpu = cpuMeter(watched);
  const peaks = workers.map(() => 0);
  const rssTimer = setInterval(() => workers.forEach((w, i) => (peaks[i] = Math.max(peaks[i]!, rssBytes(w.process.pid)))), 200);
  const { arrivals } = await sink.take(calls.length, drainTimeoutMs(seconds));
  const cpu = stopCpu();
  clearInterval(rssTimer);
  await Promise.all(workers.map((w) => w.stop()));
  return { ...rateReading(arrivals, n * configs), expected: calls.length, cpu, workerRss: peaks };
}

/** Plain BullMQ: the same calls added with addBulk, drained by a Worker with `limiter { max: N, duration: 1000 }`. */
export async function rawBacklog(bench: Bench, sink: Sink, options: { n: number; seconds: number }): Promise<BacklogRun> {
  const { n, seconds } = options;
  const queueName = `raw-${n}`;
  const prefix = `${bench.redisPrefix}:raw`;
  const queue = new Queue<BenchCall>(queueName, { connection: bench.redis, prefix });
  const calls = benchCalls(`${sink.url}/raw-${n}/`, n * seconds, BODY_BYTES);
  for (const batch of chunks(calls, 1000)) await queue.addBulk(batch.map((data) => ({ name: "call", data })));

  const worker = startSluiceProcess("bench/raw-bullmq-worker.ts", {
    RAW_REDIS_URL: bench.redisUrl,
    RAW_PREFIX: prefix,
    RAW_QUEUE: queueName,
    RAW_RATE: String(n),
  });
  await worker.waitForLine((line) => line === "raw worker ready");
  const stopCpu = cpuMeter({ worker: worker.pid, sink: sink.pid, ...bench.redisPids });
  let peak = 0;
  const rssTimer = setInterval(() => (peak = Math.max(peak, rssBytes(worker.pid))), 200);
  const { arrivals } = await sink.take(calls.length, drainTimeoutMs(seconds));
  const cpu = stopCpu();
  clearInterval(rssTimer);
  worker.kill("SIGTERM");
  await worker.exited;
  await queue.obliterate({ force: true });
  await queue.close();
  return { ...rateReading(arrivals, n), expected: calls.length, cpu, workerRss: [peak] };
}
