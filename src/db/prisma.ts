import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "../generated/prisma/client.js";

export type { PrismaClient };
export type Db = PrismaClient;
/** What a function running inside `prisma.$transaction(async (tx) => ...)` receives. */
export type Tx = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];
/**
 * The Postgres connections under Prisma, for the few reads on every request's path, written as SQL: a Prisma query
 * costs about 1 ms of CPU, a prepared statement on the pool about 0.05 ms (NOTES.md, BENCHMARKS.md).
 */
export type SqlPool = pg.Pool;

/** One client per process, created by the composition root (or a test) and passed to whoever needs it. */
export function createPrisma(databaseUrl: string, poolSize = 10): PrismaClient {
  return createDatabase(databaseUrl, poolSize).db;
}

/** Prisma and the pool it runs on, so that hot reads share its connections; Prisma's $disconnect ends the pool. */
export function createDatabase(databaseUrl: string, poolSize = 10): { db: PrismaClient; sql: SqlPool } {
  const sql = new pg.Pool({ connectionString: databaseUrl, max: poolSize, connectionTimeoutMillis: 5_000 });
  // An idle connection that breaks (Postgres restarted) must not end the process: the next query reports it.
  sql.on("error", () => undefined);
  return { db: new PrismaClient({ adapter: new PrismaPg(sql, { disposeExternalPool: true }) }), sql };
}
