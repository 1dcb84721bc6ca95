import autocannon from "autocannon";
import { request } from "undici";
import { startBaseline } from "../support/baseline.js";
import { deployLimit } from "../support/calls.js";
import type { Bench } from "../support/service.js";

export const CONNECTIONS = 50;
/** The fixed load offered to both servers' GET, requests per second (autocannon `overallRate`). */
export const OFFERED_RATE = 1000;
export const SLUICE = "Sluice";
export const BASELINE = "plain Express + pg";

export interface AuthoringRun {
  label: string;
  server: typeof SLUICE | typeof BASELINE;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

export interface AuthoringResult {
  /** In the order they ran. */
  runs: AuthoringRun[];
  getAtRate: { sluice: AuthoringRun; baseline: AuthoringRun };
  getFlatOut: { sluice: AuthoringRun; baseline: AuthoringRun };
}

/**
 * autocannon with 50 connections: GET of a config from Sluice's API process and from a plain Express + `pg`
 * process doing the same three queries (bench/baseline-server.ts), each at a fixed 1000 req/s and flat out, back
 * to back in the order baseline, Sluice, Sluice, baseline (so drift of the machine weighs on both alike); then
 * Sluice's PUT of a deployed config (an in-place update of its runtime version) flat out.
 */
export async function authoring(bench: Bench, sinkUrl: string, options: { seconds: number }): Promise<AuthoringResult> {
  const tenant = await bench.createTenant();
  const values = { urlPattern: `${sinkUrl}/authoring/*`, methods: ["POST"], maxThroughput: 1000 };
  const uid = await deployLimit(bench, tenant, `${sinkUrl}/authoring/`, 1000);
  const path = `/authoring/throttlingConfigs/${uid}`;
  const base = { connections: CONNECTIONS, duration: options.seconds, headers: tenant.headers };
  const sluiceGet = { ...base, url: `${bench.apiUrl}${path}` };

  const baseline = await startBaseline(bench.databaseUrl);
  let getAtRate: AuthoringResult["getAtRate"];
  let getFlatOut: AuthoringResult["getFlatOut"];
  try {
    const baselineGet = { ...base, url: `${baseline.url}${path}` };
    for (const target of [sluiceGet, baselineGet]) {
      await expectOk(target.url, tenant.headers);
      await autocannon({ ...target, duration: 1 }); // warm-up: JIT, the database pools
    }
    const atRate = `GET config, ${OFFERED_RATE} req/s`;
    const flatOut = "GET config, flat out";
    const baselineAtRate = await measure(atRate, BASELINE, { ...baselineGet, overallRate: OFFERED_RATE });
    const sluiceAtRate = await measure(atRate, SLUICE, { ...sluiceGet, overallRate: OFFERED_RATE });
    const sluiceFlatOut = await measure(flatOut, SLUICE, sluiceGet);
    const baselineFlatOut = await measure(flatOut, BASELINE, baselineGet);
    getAtRate = { sluice: sluiceAtRate, baseline: baselineAtRate };
    getFlatOut = { sluice: sluiceFlatOut, baseline: baselineFlatOut };
  } finally {
    await baseline.stop();
  }

  const put = { method: "PUT" as const, body: JSON.stringify(values), headers: { ...tenant.headers, "content-type": "application/json" } };
  const putFlatOut = await measure("PUT deployed config, flat out", SLUICE, { ...sluiceGet, ...put });
  return {
    runs: [getAtRate.baseline, getAtRate.sluice, getFlatOut.sluice, getFlatOut.baseline, putFlatOut],
    getAtRate,
    getFlatOut,
  };
}

/** One GET answered 200, or the figures would be of error responses. */
async function expectOk(url: string, headers: Record<string, string>): Promise<void> {
  const res = await request(url, { headers });
  const body = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`GET ${url} answered ${res.statusCode}: ${body}`);
}

async function measure(label: string, server: AuthoringRun["server"], options: autocannon.Options): Promise<AuthoringRun> {
  const result = await autocannon(options);
  return {
    label,
    server,
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}
