import { z } from "zod";
import { parseRules } from "../egress/rules.js";
import { parseClusterNodes } from "../shared/redis.js";
import { DEFAULT_BODY_PREVIEW_BYTES, DEFAULT_DATABASE_URL, DEFAULT_MAX_QUEUED_BYTES_PER_ORG, DEFAULT_MAX_QUEUED_PER_ORG, DEFAULT_REDIS_URL } from "./defaults.js";

const SERVICE_NAMES = ["api", "worker"] as const;

/** An optional setting for which an empty value (as compose passes an unset variable) means unset. */
const unsetIfEmpty = <T extends z.ZodType>(schema: T) => z.preprocess((value) => (value === "" ? undefined : value), schema.optional());

/** A comma-separated EGRESS_ALLOW/EGRESS_DENY list (see src/egress/rules.ts), refused whole if an entry is invalid. */
const egressRules = z
  .string()
  .default("")
  .transform((value, ctx) => {
    const { rules, invalid } = parseRules(value);
    if (invalid.length) {
      ctx.addIssue({
        code: "custom",
        message: `invalid entries ${invalid.map((e) => JSON.stringify(e)).join(", ")}: expected <ip or CIDR>[:<port>[-<port>]], IPv6 with a port in brackets ([::1]:8080)`,
      });
    }
    return rules;
  });
/** REDIS_CLUSTER_NODES (see src/shared/redis.ts), refused whole if an entry is invalid. */
const clusterNodes = z.string().transform((value, ctx) => {
  const { nodes, invalid } = parseClusterNodes(value);
  if (invalid.length) {
    ctx.addIssue({
      code: "custom",
      message: `invalid entries ${invalid.map((e) => JSON.stringify(e)).join(", ")}: expected host:port or redis[s]://[user:password@]host:port`,
    });
  }
  return nodes;
});
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** Every environment variable Sluice reads. The README's configuration table mirrors this schema. */
export const envSchema = z.object({
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  /** Comma-separated subset of api,worker: which halves this process runs. */
  SERVICES: z
    .string()
    .default("api,worker")
    .transform((value) => value.split(",").map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.enum(SERVICE_NAMES)).min(1)),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default("0.0.0.0"),
  DATABASE_URL: z.url().default(DEFAULT_DATABASE_URL),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  /** One Redis: `redis://` or `rediss://` (TLS). Ignored when REDIS_CLUSTER_NODES is set. */
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).default(DEFAULT_REDIS_URL),
  /** Seed nodes of a Redis Cluster (or Valkey cluster), comma-separated: selects the cluster instead of REDIS_URL. */
  REDIS_CLUSTER_NODES: unsetIfEmpty(clusterNodes),
  /** Prefix for every Redis key Sluice owns, so several deployments (or test files) can share one Redis. */
  REDIS_PREFIX: z.string().min(1).default("sluice"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** Reported as `version` in error envelopes; defaults to the package version. */
  SLUICE_VERSION: z.string().optional(),
  /** How long in-flight requests may take to finish after SIGTERM before the process exits anyway. */
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
  /** Queued calls an org may have at once; past it the call API answers 429. */
  RUNTIME_MAX_QUEUED_PER_ORG: z.coerce.number().int().min(1).default(DEFAULT_MAX_QUEUED_PER_ORG),
  /** Bytes of queued calls (method, URL, headers, body) an org may have at once; past it the call API answers 429. */
  RUNTIME_MAX_QUEUED_BYTES_PER_ORG: z.coerce.number().int().min(1024).default(DEFAULT_MAX_QUEUED_BYTES_PER_ORG),
  /** Calls one worker process handles at once per queue (sending, or waiting for their slot). */
  RUNTIME_CONCURRENCY: z.coerce.number().int().min(1).max(5000).default(1000),
  /** How much of a response's body a call's record keeps (`response.bodyPreview`), in bytes. */
  RUNTIME_BODY_PREVIEW_BYTES: z.coerce.number().int().min(0).max(65_536).default(DEFAULT_BODY_PREVIEW_BYTES),
  /**
   * A capping config of more than 256 calls per period counts its sends in this many buckets per period (each one
   * 1/N of it): memory stays a few KB whatever its count, and a backlog gets at least N/(N+1) of the count per period.
   */
  CAPPING_WINDOW_BUCKETS: z.coerce.number().int().min(20).max(1000).default(100),
  /** Failed authentications one client address may make per sliding minute; past it, 429 before any lookup (CONTRACT §7). */
  AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().min(1).default(30),
  /** How long a worker's claim on a call lasts without renewal: a crashed worker's calls return to the queue after it. */
  RUNTIME_LOCK_MS: z.coerce.number().int().min(1000).default(30_000),
  /** Enables Bull Board at /admin/queues (Authorization: Bearer <ADMIN_TOKEN>). Unset: disabled. */
  ADMIN_TOKEN: unsetIfEmpty(z.string().min(16)),
  /** When set, /metrics requires Authorization: Bearer <METRICS_TOKEN>. */
  METRICS_TOKEN: unsetIfEmpty(z.string().min(16)),
  /** Addresses outbound calls may reach although the default deny list covers them (CONTRACT §9). */
  EGRESS_ALLOW: egressRules,
  /** Addresses added to the default deny list. */
  EGRESS_DENY: egressRules,
  /** Send every outbound request through this HTTP(S) proxy; the egress policy then applies to the proxy only. */
  OUTBOUND_PROXY_URL: unsetIfEmpty(z.url({ protocol: /^https?$/ })),
  /** Test-only (NODE_ENV=test): shorten the fixed 6 h queue retention and 24 h drain. Ignored otherwise. */
  SLUICE_TEST_RETENTION_MS: z.coerce.number().int().min(100).optional(),
  SLUICE_TEST_DRAIN_MS: z.coerce.number().int().min(100).optional(),
  /** Test-only: shorten the first callback retry's 5 s delay. */
  SLUICE_TEST_CALLBACK_RETRY_MS: z.coerce.number().int().min(10).optional(),
});

export type Env = z.infer<typeof envSchema>;

export class EnvError extends Error {}

/** Parses and validates the environment once, at boot. Fails with every problem listed. */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const result = envSchema.safeParse(source);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
    throw new EnvError(`Invalid environment:\n${problems.join("\n")}`);
  }
  return result.data;
}
