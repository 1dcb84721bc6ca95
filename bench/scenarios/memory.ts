import { setTimeout as sleep } from "node:timers/promises";
import { runtimeKeys } from "../../src/runtime/keys.js";
import { benchCalls, deployLimit, submitCalls } from "../support/calls.js";
import { rssBytes } from "../support/proc.js";
import type { Bench } from "../support/service.js";
import type { Sink } from "../support/sink.js";
import { rawAddBulk } from "./ingest.js";

async function usedMemory(bench: Bench): Promise<number> {
  const info = await bench.redis.info("memory");
  return Number(/used_memory:(\d+)/.exec(info)?.[1]);
}

export interface PerCallMemory {
  bodyBytes: number;
  sluiceBytes: number;
  rawBytes: number;
}

/** Redis bytes per queued call (throttled, no worker running): Sluice's job (its record too), against a plain BullMQ job. */
export async function bytesPerCall(bench: Bench, sinkUrl: string, options: { calls: number; bodyBytes: number }): Promise<PerCallMemory> {
  const tenant = await bench.createTenant();
  const prefix = `${sinkUrl}/memory-${options.bodyBytes}/`;
  await deployLimit(bench, tenant, prefix, 5000);
  const calls = benchCalls(prefix, options.calls, options.bodyBytes);
  await bench.flushRedis();
  const sluiceBase = await usedMemory(bench);
  await submitCalls(bench, tenant, calls, 1000);
  const sluiceBytes = ((await usedMemory(bench)) - sluiceBase) / calls.length;
  await bench.flushRedis();
  const rawBase = await usedMemory(bench);
  await rawAddBulk(bench, "raw-memory", calls, 1000);
  const rawBytes = ((await usedMemory(bench)) - rawBase) / calls.length;
  await bench.flushRedis();
  return { bodyBytes: options.bodyBytes, sluiceBytes, rawBytes };
}

export interface BulkMemory {
  calls: number;
  redisBytes: number;
  acceptedPerSecond: number;
  apiRss: number;
}

/** `calls` queued through the call API (200 B bodies): Redis' used_memory, the accept rate and the API's peak RSS. */
export async function manyQueued(bench: Bench, sinkUrl: string, options: { calls: number }): Promise<BulkMemory> {
  const tenant = await bench.createTenant();
  const prefix = `${sinkUrl}/million/`;
  await deployLimit(bench, tenant, prefix, 5000);
  await bench.flushRedis();
  const base = await usedMemory(bench);
  let apiRss = 0;
  const timer = setInterval(() => (apiRss = Math.max(apiRss, rssBytes(bench.api.process.pid))), 200);
  const step = 100_000;
  let seconds = 0;
  // Generated a step at a time so the benchmark's own memory stays small.
  for (let done = 0; done < options.calls; done += step) {
    const calls = benchCalls(prefix, Math.min(step, options.calls - done), 200).map((c, i) => ({ ...c, url: `${prefix}${done + i}` }));
    seconds += await submitCalls(bench, tenant, calls, 1000);
  }
  clearInterval(timer);
  const redisBytes = (await usedMemory(bench)) - base;
  await bench.flushRedis();
  return { calls: options.calls, redisBytes, acceptedPerSecond: options.calls / seconds, apiRss };
}

/**
 * Redis bytes per finished call's record: `calls` sent by one worker to a sink answering with `responseBytes` of JSON
 * (more than the 1 KB preview kept), Redis used_memory once they all ended (workers stopped) against before they were
 * queued. What else stays (the lane's counters) is a few hundred bytes in all.
 */
export async function bytesPerFinishedRecord(bench: Bench, sink: Sink, options: { calls: number; responseBytes: number }): Promise<number> {
  const tenant = await bench.createTenant();
  await bench.flushRedis();
  const base = await usedMemory(bench);
  const calls = benchCalls(`${sink.url}/finished/`, options.calls, 200).map((call) => ({ ...call, url: `${call.url}?respond=${options.responseBytes}` }));
  await submitCalls(bench, tenant, calls, 1000);
  const workers = await bench.startWorkers(1);
  await sink.take(calls.length, 120_000);
  // The last records are written just after their send arrives.
  const queued = runtimeKeys(bench.redisPrefix).orgQueued(tenant.orgId);
  while (Number(await bench.redis.get(queued)) > 0) await sleep(100);
  await Promise.all(workers.map((worker) => worker.stop()));
  const bytes = ((await usedMemory(bench)) - base) / calls.length;
  await bench.flushRedis();
  return bytes;
}
