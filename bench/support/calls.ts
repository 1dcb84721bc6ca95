import type { Bench, Tenant } from "./service.js";

export interface BenchCall {
  method: "POST";
  url: string;
  headers?: Record<string, string>;
  body: string;
}

/** `count` POSTs to `${urlPrefix}<i>`, each with a string body of exactly `bodyBytes` bytes. */
export function benchCalls(urlPrefix: string, count: number, bodyBytes: number): BenchCall[] {
  const body = "x".repeat(bodyBytes);
  return Array.from({ length: count }, (_, i) => ({ method: "POST", url: `${urlPrefix}${i}`, body }));
}

/** Splits `items` into chunks of `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Runs `tasks` with at most `parallel` at a time. */
export async function inParallel(tasks: (() => Promise<void>)[], parallel: number): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < tasks.length) await tasks[next++]!();
  };
  await Promise.all(Array.from({ length: parallel }, lane));
}

/**
 * Submits `calls` through POST /runtime/calls/batch, `batchSize` per request and `parallel` requests at a time.
 * Returns the seconds it took; any refused batch ends the benchmark.
 */
export async function submitCalls(bench: Bench, tenant: Tenant, calls: BenchCall[], batchSize: number, parallel = 4): Promise<number> {
  const started = performance.now();
  await inParallel(
    chunks(calls, batchSize).map((batch) => async () => {
      const res = await bench.call("POST", "/runtime/calls/batch", tenant, { calls: batch });
      if (res.status !== 202) throw new Error(`batch refused: ${res.status} ${JSON.stringify(res.body)}`);
    }),
    parallel,
  );
  return (performance.now() - started) / 1000;
}

/** Creates and deploys the tenant's throttling config: `maxThroughput` calls/s to URLs under `urlPrefix`. */
export async function deployLimit(bench: Bench, tenant: Tenant, urlPrefix: string, maxThroughput: number): Promise<string> {
  const created = await bench.call("POST", "/authoring/throttlingConfigs", tenant, {
    urlPattern: `${urlPrefix}*`,
    methods: ["POST"],
    maxThroughput,
  });
  if (created.status !== 200) throw new Error(`create failed: ${JSON.stringify(created.body)}`);
  const uid = (created.body as { uid: string }).uid;
  const deployed = await bench.call("POST", `/authoring/throttlingConfigs/${uid}/deploy`, tenant);
  if (deployed.status !== 204) throw new Error(`deploy failed: ${JSON.stringify(deployed.body)}`);
  return uid;
}
