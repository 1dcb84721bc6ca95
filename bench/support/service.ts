import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { Cluster, Redis } from "ioredis";
import { Agent, request } from "undici";
import { DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL } from "../../src/config/defaults.js";
import { createPrisma, type PrismaClient } from "../../src/db/prisma.js";
import { masters, type RedisClient } from "../../src/shared/redis.js";
import { runtimeKeys } from "../../src/runtime/keys.js";
import { announceOrgChange } from "../../src/tenancy/org-changes.js";
import { TenancyService } from "../../src/tenancy/tenancy.service.js";
import { egressAllowFor } from "../../test/support/egress-allow.js";
import { runtimeCommand } from "../../test/infra/dockerfile.js";
import { freePort, REPO_ROOT, startSluiceProcess, type SluiceProcess } from "../../test/process/sluice-process.js";
import type { RedisCluster } from "../../test/support/redis-cluster.js";
import { redisServerPid } from "./proc.js";

/** The benchmark's own database (dropped and re-created per run) and Redis database (flushed per run). */
const DATABASE_URL = process.env["BENCH_DATABASE_URL"] ?? DEFAULT_DATABASE_URL.replace(/\/[^/]*$/, "/sluice_bench");
const REDIS_URL = process.env["BENCH_REDIS_URL"] ?? `${DEFAULT_REDIS_URL}/15`;
const REDIS_PREFIX = "sluice-bench";
/** Started exactly as the image starts it (Dockerfile CMD), from the freshly built dist/. */
const IMAGE_COMMAND = runtimeCommand(`${REPO_ROOT}/Dockerfile`);

export interface Tenant {
  orgId: string;
  headers: Record<string, string>;
}

/** A Sluice process started as the Dockerfile starts one. */
export interface Service {
  readonly process: SluiceProcess;
  stop(): Promise<void>;
}

export interface Bench {
  readonly apiUrl: string;
  readonly api: Service;
  /** A client of the bench's Redis (a cluster client on a cluster bench). */
  readonly redis: RedisClient;
  readonly redisUrl: string;
  /** The redis-server processes, by name, for the CPU readings. */
  readonly redisPids: Record<string, number>;
  readonly redisPrefix: string;
  readonly databaseUrl: string;
  /** A new org with a production sandbox and a credential: each scenario gets its own (one config per org). */
  createTenant(): Promise<Tenant>;
  /** Starts `count` SERVICES=worker processes. `profileDir`: write a V8 CPU profile of each there on exit. */
  startWorkers(count: number, profileDir?: string): Promise<Service[]>;
  /** HTTP client for the API, keep-alive. */
  call(method: string, path: string, tenant: Tenant, body?: unknown): Promise<{ status: number; body: unknown }>;
  /** Deletes every queued call and Redis key (between scenarios; no worker may be running). */
  flushRedis(): Promise<void>;
  close(): Promise<void>;
}

/** A Redis of the bench's own (not the machine's), e.g. one with AOF on. */
export interface OwnRedis {
  /** Names the bench's database. */
  name: string;
  url: string;
  pid: number;
}

/**
 * Builds dist/, re-creates the bench database, migrates it and starts one SERVICES=api process. Every process may
 * send to `sinkUrl` (EGRESS_ALLOW for its address and port, nothing wider), as an operator would allow one target.
 * With `cluster`, every process uses that Redis Cluster (REDIS_CLUSTER_NODES) and a database of its own; with
 * `redis`, that Redis and a database of its own.
 */
export async function startBench(options: { sinkUrl: string; profileDir?: string; cluster?: RedisCluster; redis?: OwnRedis }): Promise<Bench> {
  const { cluster, redis: own } = options;
  const suffix = cluster ? "_cluster" : own ? `_${own.name}` : "";
  const databaseUrl = DATABASE_URL.replace(/\/([^/]*)$/, `/$1${suffix}`);
  const redisUrl = own?.url ?? REDIS_URL;
  const base = {
    ...egressAllowFor(options.sinkUrl),
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    ...(cluster ? { REDIS_CLUSTER_NODES: cluster.nodes.join(",") } : {}),
  };
  run("npm", ["run", "build", "--silent"]);
  await dropDatabase(databaseUrl);
  run("npm", ["run", "db:migrate", "--silent"], { DATABASE_URL: databaseUrl });
  const redis: RedisClient = cluster
    ? new Cluster(cluster.nodes.map((node) => ({ host: "127.0.0.1", port: Number(node.split(":")[1]) })))
    : new Redis(redisUrl);
  const flushRedis = async () => {
    if (redis instanceof Cluster && redis.status !== "ready") await new Promise((resolve) => redis.once("ready", resolve));
    await Promise.all(masters(redis).map((node) => node.flushdb()));
  };
  await flushRedis();
  const redisPids = cluster
    ? Object.fromEntries(cluster.pids.slice(0, masters(redis).length).map((pid, i) => [`redis${i + 1}`, pid]))
    : own
      ? { redis: own.pid }
      : Object.fromEntries(Object.entries({ redis: redisServerPid() }).filter((entry): entry is [string, number] => entry[1] !== undefined));

  const port = await freePort();
  const api = await startService({ ...base, SERVICES: "api", PORT: String(port), HOST: "127.0.0.1" }, "sluice started", options.profileDir);
  const apiUrl = `http://127.0.0.1:${port}`;
  const db: PrismaClient = createPrisma(databaseUrl, 2);
  const tenancy = new TenancyService(db, (change, orgId) => announceOrgChange(redis, runtimeKeys(REDIS_PREFIX).orgChanges(), change, orgId));
  const agent = new Agent({ connections: 64 });

  return {
    apiUrl,
    api,
    redis,
    redisUrl,
    redisPids,
    redisPrefix: REDIS_PREFIX,
    databaseUrl,
    async createTenant() {
      const orgId = `BENCH${randomBytes(5).toString("hex").toUpperCase()}@AdobeOrg`;
      await tenancy.createOrg(orgId, orgId, "XL");
      // The bench measures throughput, not the per-org API limits: lift them well above what it sends flat out.
      const until = new Date(Date.now() + 24 * 3600_000);
      await tenancy.raiseLimit(orgId, "authoring", 100_000_000, until);
      await tenancy.raiseLimit(orgId, "runtime", 100_000_000, until);
      await tenancy.createSandbox(orgId, "prod", "production");
      const credential = await tenancy.createCredential(orgId, "bench");
      return {
        orgId,
        headers: {
          authorization: `Bearer ${credential.token}`,
          "x-api-key": credential.clientId,
          "x-gw-ims-org-id": orgId,
          "x-sandbox-name": "prod",
        },
      };
    },
    async startWorkers(count, profileDir) {
      return Promise.all(
        Array.from({ length: count }, () => startService({ ...base, SERVICES: "worker" }, "runtime worker started", profileDir)),
      );
    },
    async call(method, path, tenant, body) {
      const res = await request(`${apiUrl}${path}`, {
        dispatcher: agent,
        method: method as "GET",
        headers: { ...tenant.headers, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
      const text = await res.body.text();
      return { status: res.statusCode, body: text ? (JSON.parse(text) as unknown) : undefined };
    },
    flushRedis,
    async close() {
      await api.stop();
      await agent.close();
      await flushRedis();
      await redis.quit();
      await db.$disconnect();
      await dropDatabase(databaseUrl);
    },
  };
}

async function startService(env: Record<string, string>, readyLine: string, profileDir?: string): Promise<Service> {
  const child = startSluiceProcess(
    IMAGE_COMMAND.entry,
    {
    NODE_ENV: "production",
    REDIS_PREFIX,
    LOG_LEVEL: "info",
    ...env,
  }, REPO_ROOT, [...IMAGE_COMMAND.nodeArgs, ...(profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [])]);
  await child.waitForLine((line) => line.includes(readyLine), 60_000);
  return {
    process: child,
    async stop() {
      child.kill("SIGTERM");
      await child.exited;
    },
  };
}

async function dropDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  target.pathname = "/postgres";
  const client = new pg.Client({ connectionString: target.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name.replaceAll('"', '""')}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

function run(command: string, args: string[], env: Record<string, string> = {}): void {
  execFileSync(command, args, { cwd: REPO_ROOT, stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, ...env } });
}
