import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { REDIS_URL } from "../support/test-app.js";
import { freePort, REPO_ROOT, startSluiceProcess } from "./sluice-process.js";

// A first start without PostgreSQL or Redis: one line naming what is missing, where Sluice looked and how to start
// it, no stack trace, and a non-zero exit; through the README's `npm start` and in every SERVICES mode.

interface Run {
  code: number | null;
  stdout: string[];
  stderr: string[];
}

/** What `npm start` reads, copied: its `prisma generate` then writes into the copy, not under other test files. */
const START_FILES = ["package.json", "prisma", "prisma.config.ts", "tsconfig.json", "src"];

function copyForStart(): string {
  const dir = mkdtempSync(join(tmpdir(), "sluice-first-start-"));
  for (const file of START_FILES) {
    cpSync(resolve(REPO_ROOT, file), join(dir, file), { recursive: true, filter: (source) => !source.includes("/src/generated") });
  }
  symlinkSync(resolve(REPO_ROOT, "node_modules"), join(dir, "node_modules"), "dir");
  return dir;
}

function npmStart(cwd: string, env: Record<string, string>): Promise<Run> {
  const child = spawn("npm", ["start"], {
    cwd,
    env: { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "", NPM_CONFIG_UPDATE_NOTIFIER: "false", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const run: Run = { code: null, stdout: [], stderr: [] };
  createInterface({ input: child.stdout }).on("line", (line) => run.stdout.push(line));
  createInterface({ input: child.stderr }).on("line", (line) => run.stderr.push(line));
  return new Promise((done) => child.on("close", (code) => done({ ...run, code })));
}

const STARTS = /Start it \(`[^`]+`.*, or `docker compose up -d postgres redis`\)/;
function expectOneLine(run: Run, line: RegExp): void {
  expect(run.code, run.stderr.join("\n")).not.toBe(0);
  const ours = run.stderr.filter((text) => text.startsWith("sluice: "));
  expect(ours).toHaveLength(1);
  expect(ours[0]).toMatch(line);
  expect(ours[0]).toMatch(STARTS);
  expect([...run.stdout, ...run.stderr].filter((text) => /^\s+at /.test(text))).toEqual([]);
}

let database: TestDatabase;
let closedPort: number;
let copy: string;
beforeAll(async () => {
  database = await createTestDatabase();
  closedPort = await freePort();
  copy = copyForStart();
});
afterAll(async () => {
  rmSync(copy, { recursive: true, force: true });
  await database?.drop();
});

describe("npm start", () => {
  it("without PostgreSQL: names DATABASE_URL and how to start PostgreSQL, and exits non-zero", async () => {
    const run = await npmStart(copy, { DATABASE_URL: `postgresql://postgres:pw@127.0.0.1:${closedPort}/sluice`, REDIS_URL });
    expectOneLine(run, new RegExp(`^sluice: cannot reach PostgreSQL at 127\\.0\\.0\\.1:${closedPort} \\(DATABASE_URL\\): connect ECONNREFUSED`));
    expect(run.stderr.join("\n")).toContain("pg_ctlcluster");
    expect(run.stderr.join("\n")).not.toContain(":pw@");
  }, 60_000);

  it("without Redis: names REDIS_URL and how to start Redis, and exits non-zero", async () => {
    const run = await npmStart(copy, { DATABASE_URL: database.url, REDIS_URL: `redis://127.0.0.1:${closedPort}` });
    expectOneLine(run, new RegExp(`^sluice: cannot reach Redis at 127\\.0\\.0\\.1:${closedPort} \\(REDIS_URL\\): connect ECONNREFUSED`));
    expect(run.stderr.join("\n")).toContain("redis-server --daemonize yes");
  }, 60_000);
});

describe.each(["api", "worker"])("SERVICES=%s", (services) => {
  it.each([
    ["PostgreSQL", () => ({ DATABASE_URL: `postgresql://postgres@127.0.0.1:${closedPort}/sluice`, REDIS_URL }), /cannot reach PostgreSQL .*\(DATABASE_URL\)/],
    ["Redis", () => ({ DATABASE_URL: database.url, REDIS_URL: `redis://127.0.0.1:${closedPort}` }), /cannot reach Redis .*\(REDIS_URL\)/],
  ] as const)("without %s: the same line, and a non-zero exit", async (_missing, env, line) => {
    const child = startSluiceProcess("src/main.ts", { SERVICES: services, HOST: "127.0.0.1", PORT: "0", ...env() });
    const code = await child.exited;
    expectOneLine({ code, stdout: child.stdout, stderr: child.stderr }, line);
  });
});
