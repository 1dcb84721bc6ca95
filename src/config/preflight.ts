import pg from "pg";
import { withDeadline } from "../shared/deadline.js";
import { createRedis, redisTarget } from "../shared/redis.js";
import type { Env } from "./env.js";

const CONNECT_TIMEOUT_MS = 3000;
const COMPOSE_HINT = "or `docker compose up -d postgres redis`";

/** host:port of a URL, without its credentials. */
const where = (url: string, defaultPort: number): string => {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || defaultPort}`;
};
const reason = (error: unknown): string => (error instanceof Error && error.message ? error.message : String(error)).replace(/\.$/, "");

/** Postgres' code for a database that does not exist (the server answered). */
const UNDEFINED_DATABASE = "3D000";

/** The one line a start without PostgreSQL prints: what is missing, where Sluice looked, how to start it. */
export function postgresUnreachable(databaseUrl: string, error: unknown): string {
  if ((error as { code?: unknown }).code === UNDEFINED_DATABASE) {
    return `sluice: PostgreSQL at ${where(databaseUrl, 5432)} (DATABASE_URL) answered: ${reason(error)}. Create it and its tables with \`npm run db:migrate\`.`;
  }
  return (
    `sluice: cannot reach PostgreSQL at ${where(databaseUrl, 5432)} (DATABASE_URL): ${reason(error)}. ` +
    "Start it (`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` on Debian, " +
    `${COMPOSE_HINT}), or point DATABASE_URL at a running server.`
  );
}

function redisUnreachable(env: Pick<Env, "REDIS_URL" | "REDIS_CLUSTER_NODES">, error: unknown): string {
  const looked = env.REDIS_CLUSTER_NODES
    ? `the cluster ${env.REDIS_CLUSTER_NODES.map((node) => where(node, 6379)).join(", ")} (REDIS_CLUSTER_NODES)`
    : `${where(env.REDIS_URL, 6379)} (REDIS_URL)`;
  return (
    `sluice: cannot reach Redis at ${looked}: ${reason(error)}. ` +
    `Start it (\`redis-server --daemonize yes --bind 127.0.0.1 --port 6379\`, ${COMPOSE_HINT}), ` +
    "or point REDIS_URL (or REDIS_CLUSTER_NODES) at a running server."
  );
}

async function checkPostgres(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  try {
    await client.connect();
    await client.query("SELECT 1");
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function checkRedis(env: Pick<Env, "REDIS_URL" | "REDIS_CLUSTER_NODES">): Promise<void> {
  const redis = createRedis(redisTarget(env), {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // The client's error events carry the cause (ECONNREFUSED, a TLS failure); its promises only say it closed.
  let cause: unknown;
  redis.on("error", (error: unknown) => (cause = error));
  try {
    const answered = (redis.status === "wait" ? redis.connect() : Promise.resolve()).then(() => redis.ping());
    await withDeadline(answered, CONNECT_TIMEOUT_MS + 500);
  } catch (error) {
    throw cause ?? error;
  } finally {
    redis.disconnect();
  }
}

/**
 * Before anything starts: PostgreSQL and Redis answer, or the line that says which does not, where it was looked
 * for and how to start it (the process then exits non-zero, in every SERVICES mode).
 */
export async function unreachableDependency(env: Env): Promise<string | undefined> {
  const [postgres, redis] = await Promise.allSettled([checkPostgres(env.DATABASE_URL), checkRedis(env)]);
  if (postgres.status === "rejected") return postgresUnreachable(env.DATABASE_URL, postgres.reason);
  if (redis.status === "rejected") return redisUnreachable(env, redis.reason);
  return undefined;
}
