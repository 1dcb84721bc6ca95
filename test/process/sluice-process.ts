import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { resolve } from "node:path";
import { createInterface } from "node:readline";

export const REPO_ROOT = resolve(import.meta.dirname, "../..");

/** A port nobody listens on right now (the OS picks it, we release it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  await new Promise((done) => server.close(done));
  if (typeof address !== "object" || !address) throw new Error("no port assigned");
  return address.port;
}

export interface SluiceProcess {
  readonly pid: number;
  /** Every stdout line so far, as written. */
  readonly stdout: string[];
  readonly stderr: string[];
  /** Resolves with the first stdout line `match` accepts (lines already written count). */
  waitForLine(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code once the process ended (and its output was read). */
  readonly exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
}

/**
 * Runs a Node entry point (TypeScript via tsx, or compiled JavaScript) as its own process, with exactly `env`
 * on top of PATH and HOME, so the test's environment cannot leak into it. `nodeArgs` go before the entry
 * (e.g. --cpu-prof, which NODE_OPTIONS does not accept).
 */
export function startSluiceProcess(entry: string, env: Record<string, string>, cwd = REPO_ROOT, nodeArgs: string[] = []): SluiceProcess {
  const args = [...nodeArgs, ...(entry.endsWith(".ts") ? ["--import", "tsx", entry] : [entry])];
  const child = spawn(process.execPath, args, {
    cwd,
    env: { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout }).on("line", (line) => {
    stdout.push(line);
    for (const wake of waiters) wake();
  });
  createInterface({ input: child.stderr }).on("line", (line) => stderr.push(line));
  const exited = new Promise<number | null>((done) => child.on("close", (code) => done(code)));

  return {
    pid: child.pid!,
    stdout,
    stderr,
    exited,
    kill: (signal) => child.kill(signal),
    waitForLine(match, timeoutMs = 20_000) {
      return new Promise((done, fail) => {
        const check = () => {
          const line = stdout.find(match);
          if (line === undefined) return;
          cleanup();
          done(line);
        };
        const timer = setTimeout(() => {
          cleanup();
          fail(new Error(`no matching log line within ${timeoutMs} ms; stdout:\n${stdout.join("\n")}\nstderr:\n${stderr.join("\n")}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        void exited.then(() => {
          if (!waiters.has(check)) return;
          cleanup();
          fail(new Error(`process exited before a matching log line; stderr:\n${stderr.join("\n")}`));
        });
        waiters.add(check);
        check();
      });
    },
  };
}

/** stdout lines parsed as JSON; throws on the first line that is not JSON. */
export function jsonLines(lines: string[]): Record<string, unknown>[] {
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}
