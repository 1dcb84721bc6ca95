import pg from "pg";
import { DEFAULT_DATABASE_URL } from "../../src/config/defaults.js";

/** The server tests run against; TEST_DATABASE_URL may point elsewhere (any database on it works). */
export const SERVER_URL = process.env["TEST_DATABASE_URL"] ?? process.env["DATABASE_URL"] ?? DEFAULT_DATABASE_URL;

export function databaseUrl(name: string): string {
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Runs statements on the server's maintenance database (`postgres`). */
export async function withAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl("postgres") });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
