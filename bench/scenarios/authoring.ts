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
  /** Each server's median run (by p99 at the fixed rate, by requests per second flat out). */
  getAtRate: { sluice: AuthoringRun; baseline: AuthoringRun };
  getFlatOut: { sluice: AuthoringRun; baseline: AuthoringRun };
}

/** Rounds of GET runs per server and load: one run is one sample of a machine whose speed drifts minute to minute. */
export const ROUNDS = 3;

/**
 * autocannon with 50 connections: GET of a config from Sluice's API process and from a plain Express + `pg`
 * process doing the same three queries (bench/baseline-server.ts), at a fixed 1000 req/s and flat out, in ROUNDS
 * rounds of `seconds` per run, the two servers taking turns going first (so the machine's drift weighs on both
 * alike), each server's median run compared; then Sluice's PUT of a deployed config (an in-place update of its
 * runtime version) flat out.
 */
export async function authoring(bench: Bench, sinkUrl: string, options: { seconds: number }): Promise<AuthoringResult> {
  const tenant = await bench.createTenant();
  const values = { urlPattern: `${sinkUrl}/authoring/*`, methods: ["POST"], maxThroughput: 1000 };
  const uid = await deployLimit(bench, tenant, `${sinkUrl}/authoring/`, 1000);
  const path = `/authoring/throttlingConfigs/${uid}`;
  const base = { connections: CONNECTIONS, duration: options.seconds, headers: tenant.headers };
  const sluiceGet = { ...base, url: `${bench.apiUrl}${path}` };

  const baseline = await startBaseline(bench.databaseUrl);
  const runs: AuthoringRun[] = [];
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
    for (let round = 0; round < ROUNDS; round++) {
      const servers = [[SLUICE, sluiceGet], [BASELINE, baselineGet]] as const;
      for (const [server, target] of round % 2 ? servers : [...servers].reverse()) {
        runs.push(await measure(atRate, server, { ...target, overallRate: OFFERED_RATE }));
        runs.push(await measure(flatOut, server, target));
      }
    }
    const median = (label: string, server: AuthoringRun["server"], by: (run: AuthoringRun) => number) =>
      runs.filter((run) => run.label === label && run.server === server).sort((a, b) => by(a) - by(b))[Math.floor(ROUNDS / 2)]!;
    getAtRate = { sluice: median(atRate, SLUICE, (run) => run.p99Ms), baseline: median(atRate, BASELINE, (run) => run.p99Ms) };
    getFlatOut = {
      sluice: median(flatOut, SLUICE, (run) => run.requestsPerSecond),
      baseline: median(flatOut, BASELINE, (run) => run.requestsPerSecond),
    };
  } finally {
    await baseline.stop();
  }

  const put = { method: "PUT" as const, body: JSON.stringify(values), headers: { ...tenant.headers, "content-type": "application/json" } };
  const putFlatOut = await measure("PUT deployed config, flat out", SLUICE, { ...sluiceGet, ...put });
  return {
    runs: [...runs, putFlatOut],
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
