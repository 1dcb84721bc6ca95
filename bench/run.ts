// `npm run bench` (about 11 minutes) or `npm run bench -- --quick` (about 3 minutes). `--profile` also writes V8
// CPU profiles of the API process and of the single worker of the sustained run to bench/profiles/.
import { mkdirSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { authoring, BASELINE, OFFERED_RATE, ROUNDS } from "./scenarios/authoring.js";
import { rawBacklog, sluiceBacklog, type BacklogRun } from "./scenarios/backlog.js";
import { ingest } from "./scenarios/ingest.js";
import { unthrottledLatency } from "./scenarios/latency.js";
import { bytesPerCall, bytesPerFinishedRecord, manyQueued } from "./scenarios/memory.js";
import { describeMachine } from "./support/machine.js";
import { fixed, mb, renderTable, writeReport, type Table } from "./support/report.js";
import { startBench } from "./support/service.js";
import { startSink } from "./support/sink.js";
import { startRedisCluster } from "../test/support/redis-cluster.js";
import { startRedisServer } from "../test/support/redis-server.js";

const SCENARIOS = ["precision", "sustained", "cluster", "persistence", "latency", "authoring", "ingest", "memory"] as const;
const { values: flags } = parseArgs({
  options: { quick: { type: "boolean" }, profile: { type: "boolean" }, only: { type: "string", multiple: true } },
});
/** `--only <scenario>` (repeatable) runs a subset while working on one figure; BENCHMARKS.md is then left alone. */
const only = new Set(flags.only ?? SCENARIOS);
const unknown = [...only].filter((name) => !(SCENARIOS as readonly string[]).includes(name));
if (unknown.length) throw new Error(`unknown scenario(s) ${unknown.join(", ")}; known: ${SCENARIOS.join(", ")}`);
const quick = flags.quick ?? false;
const sizes = quick
  ? { ns: [200, 1000], backlogS: 3, sustainedS: 4, latencyS: 3, authoringS: 2, ingestCalls: 10_000, perCallCalls: 5_000, many: 100_000 }
  : { ns: [200, 1000, 5000], backlogS: 10, sustainedS: 20, latencyS: 10, authoringS: 5, ingestCalls: 50_000, perCallCalls: 20_000, many: 1_000_000 };
const profileDir = flags.profile ? resolve("bench/profiles") : undefined;
if (profileDir) {
  rmSync(profileDir, { recursive: true, force: true });
  mkdirSync(profileDir, { recursive: true });
}

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);
const pct = (value: number | undefined) => (value === undefined ? "n/a" : `${value.toFixed(0)}%`);
const cpuCell = (run: BacklogRun) =>
  Object.entries(run.cpu)
    .map(([name, value]) => `${name} ${pct(value)}`)
    .join(", ");

type Scenario = (typeof SCENARIOS)[number];

log("building, migrating the bench database, starting the API");
const sink = await startSink();
const bench = await startBench({ sinkUrl: sink.url, profileDir });

const scenarios: Record<Scenario, () => Promise<Table[]>> = {
  async precision() {
    const rows: (string | number)[][] = [];
    for (const n of sizes.ns) {
      for (const [label, run] of [
        ["Sluice (1 worker)", () => sluiceBacklog(bench, sink, { n, seconds: sizes.backlogS, workers: 1 })],
        ["BullMQ limiter", () => rawBacklog(bench, sink, { n, seconds: sizes.backlogS })],
      ] as const) {
        log(`precision: ${label}, N=${n}`);
        const r = await run();
        rows.push([n, label, `${r.calls}/${r.expected}`, fixed(r.meanOverN), fixed(r.maxWindowOverN), fixed(r.gapP99Ms, 2), fixed(1000 / n, 2)]);
      }
    }
    return [{
      title: `Precision: ${sizes.backlogS} s backlog`,
      columns: ["N", "sender", "arrived", "mean rate / N", "max sliding 1 s / N", "p99 gap (ms)", "ideal gap (ms)"],
      rows,
      method:
        `N × ${sizes.backlogS} calls (POST, 200 B body) queued first, then one sender started. Times are taken at the sink (its own ` +
        "process). Mean rate: arrivals − 1 over first-to-last span. Max sliding 1 s: most arrivals in any [t, t + 1 s). " +
        "BullMQ limiter: a plain `Worker` with `limiter { max: N, duration: 1000 }` sending with undici (bench/raw-bullmq-worker.ts).",
    }];
  },

  async sustained() {
    const rows: (string | number)[][] = [];
    // The last run offers one worker more than it can send (two configs at 5000/s): its mean is the worker's capacity.
    for (const [workers, configs] of [[1, 1], [2, 1], [1, 2]] as const) {
      log(`sustained ${configs} × 5000/s with ${workers} worker(s)`);
      const profiled = workers === 1 && configs === 1 ? profileDir : undefined;
      const r = await sluiceBacklog(bench, sink, { n: 5000, seconds: sizes.sustainedS, workers, configs, profileDir: profiled });
      const rate = (r.meanOverN * 5000 * configs).toFixed(0);
      rows.push([workers, `${configs} × 5000`, `${r.calls}/${r.expected}`, rate, fixed(r.maxWindowOverN), cpuCell(r), r.workerRss.map(mb).join(", ")]);
    }
    return [{
      title: `Sustained 5000/s: ${sizes.sustainedS} s backlog`,
      columns: ["worker processes", "configs × N", "arrived", "mean calls/s", "max sliding 1 s / (configs × N)", "CPU (100% = one core)", "worker RSS (peak)"],
      rows,
      method:
        "As above with N = 5000. CPU% from /proc/<pid>/stat over the drain; the API process is idle meanwhile. The pacing's " +
        "1.5% spacing caps one config at 4926/s, so the last row gives one worker two configs (two orgs) at 5000/s each, more " +
        "than it can send: its mean is what one worker process sends at full core.",
    }];
  },

  async cluster() {
    log("sustained 5000/s on a 3-master Redis Cluster");
    const redisCluster = await startRedisCluster({ masters: 3 });
    const rows: (string | number)[][] = [];
    try {
      const onCluster = await startBench({ sinkUrl: sink.url, cluster: redisCluster });
      try {
        for (const workers of [1, 2]) {
          log(`cluster: sustained 5000/s with ${workers} worker(s)`);
          const r = await sluiceBacklog(onCluster, sink, { n: 5000, seconds: sizes.sustainedS, workers });
          rows.push([workers, `${r.calls}/${r.expected}`, (r.meanOverN * 5000).toFixed(0), fixed(r.maxWindowOverN), cpuCell(r)]);
        }
      } finally {
        await onCluster.close();
      }
    } finally {
      await redisCluster.stop();
    }
    return [{
      title: `Sustained 5000/s on a 3-master Redis Cluster: ${sizes.sustainedS} s backlog`,
      columns: ["worker processes", "arrived", "mean calls/s", "max sliding 1 s / N", "CPU (100% = one core)"],
      rows,
      method:
        "The sustained scenario with REDIS_CLUSTER_NODES: its own API process and database, against 3 masters (no replicas, no " +
        "persistence) started by the bench from the machine's redis-server (test/support/redis-cluster.ts). One config is one queue, " +
        "so its calls live on one master; the others hold the org's counters and the lane registry.",
    }];
  },

  async persistence() {
    const rows: (string | number)[][] = [];
    const modes = [
      ["no persistence", "none", ["--appendonly", "no"]],
      ["AOF, appendfsync everysec", "everysec", ["--appendonly", "yes", "--appendfsync", "everysec"]],
      ["AOF, appendfsync always", "always", ["--appendonly", "yes", "--appendfsync", "always"]],
    ] as const;
    for (const [label, name, args] of modes) {
      const server = await startRedisServer([...args]);
      try {
        const own = await startBench({ sinkUrl: sink.url, redis: { name: `aof_${name}`, url: server.url, pid: server.pid } });
        try {
          log(`persistence (${label}): ingest, 1000 per request`);
          const ingested = await ingest(own, sink.url, { calls: sizes.ingestCalls, batchSize: 1000 });
          log(`persistence (${label}): sustained 5000/s, 1 worker`);
          const r = await sluiceBacklog(own, sink, { n: 5000, seconds: sizes.sustainedS, workers: 1 });
          rows.push([label, ingested.sluicePerSecond.toFixed(0), (r.meanOverN * 5000).toFixed(0), fixed(r.maxWindowOverN), cpuCell(r)]);
        } finally {
          await own.close();
        }
      } finally {
        await server.stop();
      }
    }
    return [{
      title: "Redis persistence: what each setting costs",
      columns: ["Redis", "ingest, 1000 per request (accepted/s)", "sustained 5000/s (sends/s)", "max sliding 1 s / N", "CPU (100% = one core)"],
      rows,
      method:
        `A redis-server of the bench's own per row (data in a temporary directory on this machine's disk), its own API process and ` +
        `database; then the ingest scenario (${sizes.ingestCalls} calls) and the sustained scenario (one worker, one config at 5000/s). ` +
        "`always` fsyncs every write before answering: a 202 is on disk. `everysec` may lose the last second of writes in a crash.",
    }];
  },

  async latency() {
    log("unthrottled latency at 1000/s");
    const r = await unthrottledLatency(bench, sink, { rate: 1000, seconds: sizes.latencyS });
    return [{
      title: "Latency: unthrottled calls at 1000/s",
      columns: ["calls", "p50 (ms)", "p99 (ms)", "max (ms)"],
      rows: [[r.calls, fixed(r.p50Ms, 1), fixed(r.p99Ms, 1), fixed(r.maxMs, 1)]],
      method:
        "A POST /runtime/calls/batch of 10 calls every 10 ms, one worker running, measured after 3 s of the same load. From just before the client's " +
        "request to the arrival at the sink: the accept, queue-to-send and the trip to the sink.",
    }];
  },

  async authoring() {
    log("authoring API: GET from Sluice and from a plain Express + pg process, PUT from Sluice");
    const r = await authoring(bench, sink.url, { seconds: sizes.authoringS });
    const ratio = (sluice: number, baseline: number) => fixed(sluice / baseline, 2);
    return [
      {
        title: "Authoring API: 50 connections (autocannon)",
        columns: ["load", "server", "req/s", "p50 (ms)", "p99 (ms)", "non-2xx", "errors"],
        rows: r.runs.map((a) => [a.label, a.server, a.requestsPerSecond.toFixed(0), a.p50Ms, a.p99Ms, a.non2xx, a.errors]),
        method:
          `${sizes.authoringS} s per row, in the order shown, after a 1 s warm-up of each server; autocannon runs in the bench process, ` +
          `each server in its own. ${OFFERED_RATE} req/s: autocannon \`overallRate\` (the load offered, whatever is served). ` +
          `${BASELINE}: bench/baseline-server.ts, one Express 5 handler doing the same three queries with a \`pg.Pool\` of 10 ` +
          "(the credential by x-api-key with its token hash compared in constant time, the sandbox, the config), against the " +
          "same database and the same config, with the same headers, node flags and NODE_ENV as Sluice. The GET runs come in " +
          `${ROUNDS} rounds, the two servers taking turns going first, so the machine's drift weighs on both alike.`,
      },
      {
        title: "Authoring GET: Sluice against plain Express + pg",
        columns: ["figure", "Sluice", BASELINE, "Sluice ÷ baseline", "target"],
        rows: [
          [
            "GET flat out (req/s)",
            r.getFlatOut.sluice.requestsPerSecond.toFixed(0),
            r.getFlatOut.baseline.requestsPerSecond.toFixed(0),
            ratio(r.getFlatOut.sluice.requestsPerSecond, r.getFlatOut.baseline.requestsPerSecond),
            "≥ 1.0",
          ],
          [
            `GET p99 at ${OFFERED_RATE} req/s offered (ms)`,
            r.getAtRate.sluice.p99Ms,
            r.getAtRate.baseline.p99Ms,
            ratio(r.getAtRate.sluice.p99Ms, r.getAtRate.baseline.p99Ms),
            "≤ 1.2",
          ],
        ],
        method: `Each server's median run of the rows above (by requests per second flat out, by p99 at the fixed rate), issue 10's targets. Throughput: higher is better; p99: lower is better.`,
      },
    ];
  },

  async ingest() {
    const rows: (string | number)[][] = [];
    // One call per request takes a request per call: fewer calls keep that row to seconds.
    for (const [batchSize, calls] of [[1, sizes.perCallCalls], [100, sizes.ingestCalls], [1000, sizes.ingestCalls]] as const) {
      log(`ingest, ${batchSize} per request, ${calls} calls`);
      const r = await ingest(bench, sink.url, { calls, batchSize });
      rows.push([batchSize, calls, r.sluicePerSecond.toFixed(0), r.rawPerSecond.toFixed(0), fixed(r.sluicePerSecond / r.rawPerSecond, 2), batchSize === 1 ? "–" : "≥ 0.60"]);
    }
    return [{
      title: "Ingest: calls accepted per second",
      columns: ["calls per request", "calls", "Sluice accepted/s", "BullMQ addBulk/s", "Sluice ÷ addBulk", "target"],
      rows,
      method:
        "4 requests (or addBulk calls) in flight; no worker running; the calls match a deployed config. Each row: Sluice first " +
        "(POST /runtime/calls/batch), then `addBulk` of the same call objects, the same number per call, from the bench process.",
    }];
  },

  async memory() {
    const rows: (string | number)[][] = [];
    for (const bodyBytes of [200, 2048]) {
      log(`memory per call, ${bodyBytes} B bodies`);
      const r = await bytesPerCall(bench, sink.url, { calls: sizes.perCallCalls, bodyBytes });
      rows.push([`${bodyBytes} B`, r.sluiceBytes.toFixed(0), r.rawBytes.toFixed(0), fixed(r.sluiceBytes / r.rawBytes, 2)]);
    }
    log("memory per finished call's record, 1 KB preview");
    const finished = await bytesPerFinishedRecord(bench, sink, { calls: sizes.perCallCalls, responseBytes: 2048 });
    log(`${sizes.many} queued calls`);
    const many = await manyQueued(bench, sink.url, { calls: sizes.many });
    return [
      {
        title: "Redis bytes per queued call",
        columns: ["body", "Sluice (its job, which is its record)", "plain BullMQ job", "ratio"],
        rows,
        method: `Redis used_memory before and after queueing ${sizes.perCallCalls} calls, divided by the count.`,
      },
      {
        title: "Redis bytes per finished call's record",
        columns: ["response body", "preview kept", "per record"],
        rows: [["2048 B", "1024 B (default)", `${finished.toFixed(0)} B`]],
        method:
          `${sizes.perCallCalls} calls (URL of 45 B) sent by one worker to the bench sink, which answers 200 with a 2 KB JSON body and ` +
          "its usual headers; Redis used_memory once every call ended (worker stopped) against before they were queued, divided by the count.",
      },
      {
        title: `${sizes.many.toLocaleString("en")} queued calls (200 B bodies)`,
        columns: ["Redis used_memory", "per call", "accepted/s", "API RSS (peak)"],
        rows: [[mb(many.redisBytes), `${(many.redisBytes / many.calls).toFixed(0)} B`, many.acceptedPerSecond.toFixed(0), mb(many.apiRss)]],
        method: "Queued through the call API, 1000 per request, 4 in flight; no worker running.",
      },
    ];
  },
};

try {
  const machine = await describeMachine(bench.redis, bench.databaseUrl);
  const tables: Table[] = [];
  for (const name of SCENARIOS) if (only.has(name)) tables.push(...(await scenarios[name]()));
  const command = `npm run bench${quick ? " -- --quick" : ""}`;
  const generated = [`## ${quick ? "Quick run" : "Full run"}`, "", ...machine, `- Command: \`${command}\``, "", ...tables.map(renderTable)].join("\n");
  process.stdout.write(`${generated}\n`);
  if (!flags.only) writeReport("BENCHMARKS.md", generated);
} finally {
  await sink.close();
  await bench.close();
}
