// `npm run db:migrate` step 1: create DATABASE_URL's database if it does not exist yet.
// Prisma's JS schema engine (used so migrations work offline) does not create it, unlike the native one.
import pg from "pg";
import { loadEnv } from "../config/env.js";
import { postgresUnreachable } from "../config/preflight.js";

const { DATABASE_URL } = loadEnv();
const target = new URL(DATABASE_URL);
const name = decodeURIComponent(target.pathname.slice(1));
const maintenance = new URL(target);
maintenance.pathname = "/postgres";

const client = new pg.Client({ connectionString: maintenance.toString(), connectionTimeoutMillis: 3000 });
try {
  await client.connect();
} catch (error) {
  process.stderr.write(`${postgresUnreachable(DATABASE_URL, error)}\n`);
  process.exit(1);
}
try {
  const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
  if (!rowCount) {
    await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
    console.log(`created database ${name}`);
  }
} finally {
  await client.end();
}
