import { Queue } from "bullmq";
import { benchCalls, chunks, deployLimit, inParallel, submitCalls, type BenchCall } from "../support/calls.js";
import type { Bench } from "../support/service.js";
import { BODY_BYTES } from "./backlog.js";

export const PARALLEL_REQUESTS = 4;

export interface IngestRun {
  batchSize: number;
  sluicePerSecond: number;
  rawPerSecond: number;
}

/**
 * Calls accepted per second through POST /runtime/calls/batch (for a deployed, matching config; no worker
 * running), against BullMQ addBulk of the same call objects from this process, `PARALLEL_REQUESTS` at a time.
 */
export async function ingest(bench: Bench, sinkUrl: string, options: { calls: number; batchSize: number }): Promise<IngestRun> {
  const { calls: count, batchSize } = options;
  const tenant = await bench.createTenant();
  const prefix = `${sinkUrl}/ingest-${batchSize}/`;
  await deployLimit(bench, tenant, prefix, 5000);
  const calls = benchCalls(prefix, count, BODY_BYTES);
  const sluiceSeconds = await submitCalls(bench, tenant, calls, batchSize, PARALLEL_REQUESTS);
  await bench.flushRedis();

  const rawSeconds = await rawAddBulk(bench, `raw-ingest-${batchSize}`, calls, batchSize);
  await bench.flushRedis();
  return { batchSize, sluicePerSecond: count / sluiceSeconds, rawPerSecond: count / rawSeconds };
}

/** Seconds BullMQ addBulk takes for `calls`, `batchSize` per call, `PARALLEL_REQUESTS` at a time. */
export async function rawAddBulk(bench: Bench, queueName: string, calls: BenchCall[], batchSize: number): Promise<number> {
  const queue = new Queue<BenchCall>(queueName, { connection: bench.redis, prefix: `${bench.redisPrefix}:raw` });
  const started = performance.now();
  await inParallel(
    chunks(calls, batchSize).map((batch) => async () => {
      await queue.addBulk(batch.map((data) => ({ name: "call", data })));
    }),
    PARALLEL_REQUESTS,
  );
  const seconds = (performance.now() - started) / 1000;
  await queue.close();
  return seconds;
}
