import { randomBytes } from "node:crypto";
import { Cluster } from "ioredis";
import supertest from "supertest";
import { afterAll, afterEach, beforeAll, beforeEach, inject } from "vitest";
import { createSluice } from "../../src/composition-root.js";
import { DEFAULT_REDIS_URL } from "../../src/config/defaults.js";
import { loadEnv } from "../../src/config/env.js";
import { createPrisma, type PrismaClient } from "../../src/db/prisma.js";
import { runtimeKeys, type RuntimeKeys } from "../../src/runtime/keys.js";
import { createLogger } from "../../src/shared/logger.js";
import { createRedis, masters, redisTarget, slotOwners, type RedisClient } from "../../src/shared/redis.js";
import type { Plan } from "../../src/generated/prisma/client.js";
import { LIMIT_CLASSES } from "../../src/tenancy/api-limits.js";
import { announceOrgChange } from "../../src/tenancy/org-changes.js";
import { TenancyService } from "../../src/tenancy/tenancy.service.js";
import { createTestDatabase, type TestDatabase } from "./database.js";

export const REDIS_URL = process.env["REDIS_URL"] ?? DEFAULT_REDIS_URL;

/**
 * The Redis the tests run against: the one at REDIS_URL, or, in the cluster projects (vitest.config.ts), the
 * Redis Cluster their global setup started.
 */
export function testRedisEnv(): { REDIS_URL: string; REDIS_CLUSTER_NODES?: string } {
  const clusterNodes = inject("redisClusterNodes");
  return clusterNodes ? { REDIS_URL, REDIS_CLUSTER_NODES: clusterNodes } : { REDIS_URL };
}

/** A client of the tests' Redis (see testRedisEnv), for arranging and asserting state. */
export function testRedis(): RedisClient {
  return createRedis(redisTarget(loadEnv(testRedisEnv())), {});
}

/** The master (host:port) that serves `key`: on one Redis, always that one. */
export async function masterOf(redis: RedisClient, key: string): Promise<string> {
  await redis.ping(); // a cluster client has read the slot table once it answers
  return redis instanceof Cluster ? slotOwners(redis, key)[0]! : `${redis.options.host}:${redis.options.port}`;
}

/**
 * MEMORY USAGE of an existing key, every field counted (the default samples 5 and extrapolates), asked of the master
 * that holds it (a cluster client does not route MEMORY by key).
 */
export async function memoryUsage(redis: RedisClient, key: string): Promise<number> {
  const owner = await masterOf(redis, key);
  const node = masters(redis).find((master) => `${master.options.host}:${master.options.port}` === owner);
  const bytes = await node?.memory("USAGE", key, "SAMPLES", 0);
  if (typeof bytes !== "number") throw new Error(`no MEMORY USAGE for ${key} on ${owner}`);
  return bytes;
}

/** The keys matching `pattern` on every master, sorted. */
export async function keysMatching(redis: RedisClient, pattern: string): Promise<string[]> {
  const found = await Promise.all(masters(redis).map((node) => node.keys(pattern)));
  return found.flat().sort();
}

export interface Tenant {
  orgId: string;
  clientId: string;
  token: string;
  credentialName: string;
  prodSandbox: { id: string; name: string };
  devSandbox: { id: string; name: string };
  /** The four credential headers, for `sandbox` (default: the production one). */
  headers(sandbox?: string): Record<string, string>;
}

export interface TestApp {
  readonly url: string;
  /** The environment overrides the app was started with; worker processes of the app get them too. */
  readonly env: Record<string, string>;
  readonly database: TestDatabase;
  /** A separate client for arranging and asserting database state. */
  readonly db: PrismaClient;
  readonly redis: RedisClient;
  readonly redisPrefix: string;
  /** The app's Redis key names. */
  readonly keys: RuntimeKeys;
  /** The app's keys matching `pattern` (under its prefix), on every master, sorted. */
  keysMatching(pattern: string): Promise<string[]>;
  readonly tenancy: TenancyService;
  request(): supertest.Agent;
  /**
   * An org with a `prod` (production) and a `dev` (development) sandbox and one credential. Its API limits are raised
   * far beyond any plan (tests poll faster than a plan allows) unless `plan` is given: then the plan's apply.
   */
  createTenant(orgId?: string, options?: { plan?: Plan }): Promise<Tenant>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Reach Postgres through this local port (a proxy a test can cut) instead of directly; workers too. */
  databasePort?: number;
}

/** Starts the real app (API on an ephemeral port) against a fresh database and a private Redis key prefix. */
export async function startTestApp(overrides: Record<string, string> = {}, options: TestAppOptions = {}): Promise<TestApp> {
  const database = await createTestDatabase();
  const envOverrides = options.databasePort ? { DATABASE_URL: withPort(database.url, options.databasePort), ...overrides } : overrides;
  const redisPrefix = `sluice-test-${randomBytes(6).toString("hex")}`;
  const env = loadEnv({
    NODE_ENV: "test",
    SERVICES: "api",
    HOST: "127.0.0.1",
    PORT: "0",
    DATABASE_URL: database.url,
    // An app pointed at another Redis (one that is down, say) is not sent to the cluster either.
    ...("REDIS_URL" in envOverrides ? { REDIS_CLUSTER_NODES: "" } : testRedisEnv()),
    REDIS_PREFIX: redisPrefix,
    LOG_LEVEL: process.env["TEST_LOG_LEVEL"] ?? "silent",
    // Test files try many wrong credentials from one address; the failed-authentication limit has tests of its own.
    AUTH_FAILURES_PER_MINUTE: "100000",
    ...envOverrides,
  });
  const sluice = createSluice(env, createLogger(env.LOG_LEVEL));
  await sluice.start();
  const url = `http://127.0.0.1:${sluice.port}`;
  const db = createPrisma(database.url, 4);
  const redis = testRedis();
  const tenancy = new TenancyService(db, (change, orgId) => announceOrgChange(redis, runtimeKeys(redisPrefix).orgChanges(), change, orgId));

  return {
    url,
    env: envOverrides,
    database,
    db,
    redis,
    redisPrefix,
    keys: runtimeKeys(redisPrefix),
    keysMatching: (pattern) => keysMatching(redis, pattern),
    tenancy,
    request: () => supertest.agent(url),
    async createTenant(orgId = `ORG${randomBytes(6).toString("hex").toUpperCase()}@AdobeOrg`, options = {}) {
      await tenancy.createOrg(orgId, `Org ${orgId}`, options.plan ?? "M");
      if (!options.plan) {
        const until = new Date(Date.now() + 24 * 3_600_000);
        for (const limitClass of LIMIT_CLASSES) await tenancy.raiseLimit(orgId, limitClass, 100_000_000, until);
      }
      const prod = await tenancy.createSandbox(orgId, "prod", "production");
      const dev = await tenancy.createSandbox(orgId, "dev", "development");
      const credential = await tenancy.createCredential(orgId, `integration-${orgId}`);
      return {
        orgId,
        clientId: credential.clientId,
        token: credential.token,
        credentialName: credential.name,
        prodSandbox: { id: prod.id, name: prod.name },
        devSandbox: { id: dev.id, name: dev.name },
        headers: (sandbox = "prod") => ({
          Authorization: `Bearer ${credential.token}`,
          "x-api-key": credential.clientId,
          "x-gw-ims-org-id": orgId,
          "x-sandbox-name": sandbox,
        }),
      };
    },
    async close() {
      await sluice.stop();
      await Promise.all(masters(redis).map(async (node) => {
        const keys = await node.keys(`${redisPrefix}*`);
        // One by one: on a cluster the keys sit in many slots.
        await Promise.all(keys.map((key) => node.unlink(key)));
      }));
      await redis.quit();
      await db.$disconnect();
      await database.drop();
    },
  };
}

function withPort(url: string, port: number): string {
  const parsed = new URL(url);
  parsed.port = String(port);
  return parsed.toString();
}

/** The app and tenant a test file shares; filled in by `useTestApp`'s beforeAll. */
export interface TestContext {
  readonly app: TestApp;
  readonly tenant: Tenant;
}

/**
 * What a test setup lives for: the enclosing file or describe block, or each test, so that a retried test starts
 * again from nothing (its own database, Redis prefix, tenant and processes) instead of from what its failed attempt
 * left behind.
 */
export type SetupScope = "file" | "test";

export function setupHooks(scope: SetupScope) {
  return scope === "test" ? { setup: beforeEach, teardown: afterEach } : { setup: beforeAll, teardown: afterAll };
}

/**
 * Registers hooks that start one app with one tenant for the enclosing file or describe block (or for each test).
 * `envOverrides` may be a function, read when the app starts (e.g. to allow egress to a sink started before it).
 */
export function useTestApp(
  envOverrides: Record<string, string> | (() => Record<string, string>) = {},
  scope: SetupScope = "file",
  options: () => TestAppOptions = () => ({}),
): TestContext {
  const { setup, teardown } = setupHooks(scope);
  const context = {} as { app: TestApp; tenant: Tenant };
  setup(async () => {
    context.app = await startTestApp(typeof envOverrides === "function" ? envOverrides() : envOverrides, options());
    context.tenant = await context.app.createTenant();
  });
  teardown(() => context.app?.close());
  return context;
}
