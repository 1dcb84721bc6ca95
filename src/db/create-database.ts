// `npm run db:migrate` step 1: create DATABASE_URL's database if it does not exist yet.
// Prisma's JS schema engine (used so migrations work offline) does not create it, unlike the native one.
import pg from "pg";
import { loadEnv } from "../config/env.js";

const target = new URL(loadEnv().DATABASE_URL);
const name = decodeURIComponent(target.pathname.slice(1));
const maintenance = new URL(target);
maintenance.pathname = "/postgres";

const client = new pg.Client({ connectionString: maintenance.toString() });
await client.connect();
try {
  const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
  if (!rowCount) {
    await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
    console.log(`created database ${name}`);
  }
} finally {
  await client.end();
}
