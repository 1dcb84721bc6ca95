import { execFileSync } from "node:child_process";
import os from "node:os";
import pg from "pg";
import type { RedisClient } from "../../src/shared/redis.js";

/** Where the figures were taken: hardware, runtimes, service versions, commit. */
export async function describeMachine(redis: RedisClient, databaseUrl: string): Promise<string[]> {
  const info = await redis.info("server");
  const redisVersion = /redis_version:(\S+)/.exec(info)?.[1] ?? "unknown";
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const postgres = (await client.query<{ server_version: string }>("SHOW server_version")).rows[0]!.server_version;
  await client.end();
  const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
  const dirty = execFileSync("git", ["status", "--porcelain"], { encoding: "utf8" }).trim() ? " (with uncommitted changes)" : "";
  return [
    `- CPU: ${os.cpus().length} × ${os.cpus()[0]?.model ?? "unknown"}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Linux ${os.release()}`,
    `- Node ${process.version}, Redis ${redisVersion}, PostgreSQL ${postgres}`,
    `- Commit ${commit}${dirty}, ${new Date().toISOString()}`,
  ];
}
