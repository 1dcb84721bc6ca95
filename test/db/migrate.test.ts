import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { databaseUrl, withAdmin } from "../support/postgres.js";

const run = promisify(execFile);
const name = `sluice_migrate_${randomBytes(4).toString("hex")}`;

afterAll(() => withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)));

describe("npm run db:migrate", () => {
  it("creates a missing database and applies every migration offline, idempotently", async () => {
    const env = { ...process.env, DATABASE_URL: databaseUrl(name) };
    await run("npm", ["run", "db:migrate"], { env });
    const second = await run("npm", ["run", "db:migrate"], { env });
    expect(second.stdout).toMatch(/No pending migrations|already|successfully/i);

    const client = new pg.Client({ connectionString: databaseUrl(name) });
    await client.connect();
    const result = await client
      .query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
      .finally(() => client.end());
    expect(result.rows.map((row) => row.tablename)).toEqual([
      "_prisma_migrations",
      "capping_configs",
      "capping_runtimes",
      "credentials",
      "limit_raises",
      "orgs",
      "runtime_versions",
      "sandboxes",
      "throttling_configs",
    ]);
  });
});
