import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { testRedisEnv } from "../support/test-app.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
// The project's own tsx binary: what `npx tsx` resolves to, without npx's own warnings on stderr.
const TSX = `${ROOT}node_modules/.bin/tsx`;

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `src/cli/<script>.ts` as a real child process against `databaseUrl`. */
export function runCliScript(script: "sluice" | "dev-seed", args: string[], env: Record<string, string>): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [`src/cli/${script}.ts`, ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * `sluice <args> --json` against the database at `databaseUrl`, or with an environment of its own (an app's database
 * and Redis prefix, so that the app hears what the command announces).
 */
export function sluice(target: string | Record<string, string>, ...args: string[]): Promise<CliRun> {
  return runCliScript("sluice", [...args, "--json"], typeof target === "string" ? { DATABASE_URL: target } : target);
}

/** The environment under which the CLI acts on `app`'s database and announces to it (on its Redis or cluster). */
export const cliEnvOf = (app: { database: { url: string }; redisPrefix: string }) => ({
  DATABASE_URL: app.database.url,
  ...testRedisEnv(),
  REDIS_PREFIX: app.redisPrefix,
});

/** Like `sluice`, for commands that must succeed: resolves to the parsed JSON document on stdout. */
export async function sluiceOk<T>(target: string | Record<string, string>, ...args: string[]): Promise<T> {
  const run = await sluice(target, ...args);
  if (run.code !== 0 || run.stderr !== "") throw new Error(`sluice ${args.join(" ")} exited ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}
