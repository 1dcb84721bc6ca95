import autocannon from "autocannon";
import { deployLimit } from "../support/calls.js";
import type { Bench } from "../support/service.js";

export const CONNECTIONS = 50;

export interface AuthoringRun {
  label: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

/**
 * autocannon against the API process with 50 connections: GET of a config at a fixed 1000 req/s and flat out,
 * and PUT of a deployed config (an in-place update of its runtime version) flat out.
 */
export async function authoring(bench: Bench, sinkUrl: string, options: { seconds: number }): Promise<AuthoringRun[]> {
  const tenant = await bench.createTenant();
  const values = { urlPattern: `${sinkUrl}/authoring/*`, methods: ["POST"], maxThroughput: 1000 };
  const uid = await deployLimit(bench, tenant, `${sinkUrl}/authoring/`, 1000);
  const url = `${bench.apiUrl}/authoring/throttlingConfigs/${uid}`;
  const base = { url, connections: CONNECTIONS, duration: options.seconds, headers: tenant.headers };
  const put = { method: "PUT" as const, body: JSON.stringify(values), headers: { ...tenant.headers, "content-type": "application/json" } };
  return [
    await measure("GET config, 1000 req/s", { ...base, overallRate: 1000 }),
    await measure("GET config, flat out", base),
    await measure("PUT deployed config, flat out", { ...base, ...put }),
  ];
}

async function measure(label: string, options: autocannon.Options): Promise<AuthoringRun> {
  const result = await autocannon(options);
  return {
    label,
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}
