import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

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

/** `sluice <args> --json` against `databaseUrl`; stdout parsed when the command succeeded. */
export async function sluiceJson<T = unknown>(databaseUrl: string, ...args: string[]): Promise<CliRun & { json: T }> {
  const run = await runCliScript("sluice", [...args, "--json"], { DATABASE_URL: databaseUrl });
  return { ...run, json: (run.code === 0 ? JSON.parse(run.stdout) : undefined) as T };
}
