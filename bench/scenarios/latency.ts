import { setTimeout as sleep } from "node:timers/promises";
import type { Bench, Tenant } from "../support/service.js";
import type { Sink } from "../support/sink.js";
import { percentile } from "../../test/support/timing.js";
import { BODY_BYTES } from "./backlog.js";

export interface LatencyRun {
  ratePerSecond: number;
  calls: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

const TICK_MS = 10;
const WARM_UP_S = 3;

/**
 * Unthrottled calls (the org has no config) at `rate`/s: every 10 ms one POST /runtime/calls/batch of
 * rate/100 calls, with one worker process running, after 3 s of the same load. Each call carries the time just
 * before its request in `x-bench-t0`; the sink measures that → arrival: the call API's accept, the
 * queue-to-send time and the trip.
 */
export async function unthrottledLatency(bench: Bench, sink: Sink, options: { rate: number; seconds: number }): Promise<LatencyRun> {
  const tenant = await bench.createTenant();
  const [worker] = await bench.startWorkers(1);
  // The same load first, unmeasured: a cold API (JIT, Prisma's first compile of each query) falls behind, and
  // the backlog it builds would be measured as the steady state's latency.
  await sink.take(await submitAt(bench, tenant, sink.url, options.rate, WARM_UP_S), 30_000);
  const latencies = (await sink.take(await submitAt(bench, tenant, sink.url, options.rate, options.seconds), 30_000)).latencies;
  await worker!.stop();
  return {
    ratePerSecond: options.rate,
    calls: latencies.length,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: percentile(latencies, 100),
  };
}

/** Submits `rate` calls per second for `seconds`, stamped with `x-bench-t0`; resolves with the count once all are accepted. */
async function submitAt(bench: Bench, tenant: Tenant, sinkUrl: string, rate: number, seconds: number): Promise<number> {
  const perTick = (rate * TICK_MS) / 1000;
  const ticks = (seconds * 1000) / TICK_MS;
  const body = "x".repeat(BODY_BYTES);
  const pending: Promise<unknown>[] = [];
  const started = performance.now();
  for (let tick = 0; tick < ticks; tick++) {
    const due = started + tick * TICK_MS;
    if (due > performance.now()) await sleep(due - performance.now());
    const headers = { "x-bench-t0": String(performance.timeOrigin + performance.now()) };
    const calls = Array.from({ length: perTick }, (_, i) => ({ method: "POST", url: `${sinkUrl}/latency/${tick}-${i}`, headers, body }));
    pending.push(
      bench.call("POST", "/runtime/calls/batch", tenant, { calls }).then((res) => {
        if (res.status !== 202) throw new Error(`batch refused: ${res.status} ${JSON.stringify(res.body)}`);
      }),
    );
  }
  await Promise.all(pending);
  return ticks * perTick;
}
