import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../generated/prisma/client.js";

export type { PrismaClient };
export type Db = PrismaClient;
/** What a function running inside `prisma.$transaction(async (tx) => ...)` receives. */
export type Tx = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];

/** One client per process, created by the composition root (or a test) and passed to whoever needs it. */
export function createPrisma(databaseUrl: string, poolSize = 10): PrismaClient {
  return new PrismaClient({
    adapter: new PrismaPg({ connectionString: databaseUrl, max: poolSize, connectionTimeoutMillis: 5_000 }),
  });
}
