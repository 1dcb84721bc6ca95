import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { REDIS_URL } from "../support/test-app.js";
import { freePort, REPO_ROOT, startSluiceProcess, type SluiceProcess } from "../process/sluice-process.js";
import { instructionArgs, parseDockerfile } from "./dockerfile.js";

const runtime = parseDockerfile(resolve(REPO_ROOT, "Dockerfile")).at(-1)!;

/**
 * Lays out the runtime stage's /app without Docker: its plain COPYs from the repository, `dist` compiled
 * by the build's tsc config, and the installed node_modules (a superset of the production ones).
 */
async function assembleRuntimeImage(app: string): Promise<void> {
  for (const copy of instructionArgs(runtime, "COPY")) {
    const parts = copy.split(/\s+/);
    const destination = join(app, parts.pop()!);
    const from = /^--from=(\S+)$/.exec(parts[0]!)?.[1];
    if (from === undefined) {
      for (const source of parts) cpSync(resolve(REPO_ROOT, source), join(destination, source), { recursive: true });
    } else if (parts[1] === "/app/node_modules") {
      symlinkSync(resolve(REPO_ROOT, "node_modules"), destination, "dir");
    } else if (parts[1] === "/app/dist") {
      const tsc = resolve(REPO_ROOT, "node_modules/typescript/bin/tsc");
      await promisify(execFile)(process.execPath, [tsc, "-p", "tsconfig.build.json", "--outDir", destination], { cwd: REPO_ROOT });
    } else {
      throw new Error(`this test does not know how to reproduce: COPY ${copy}`);
    }
  }
}

let app: string;
let database: TestDatabase;
let sluice: SluiceProcess;
let base: string;

beforeAll(async () => {
  app = mkdtempSync(join(tmpdir(), "sluice-image-"));
  database = await createTestDatabase();
  await assembleRuntimeImage(app);
  const [command, entry] = JSON.parse(instructionArgs(runtime, "CMD").at(-1)!) as string[];
  expect(command).toBe("node");
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  sluice = startSluiceProcess(entry!, {
    NODE_ENV: "production",
    SERVICES: "api",
    HOST: "127.0.0.1",
    PORT: String(port),
    DATABASE_URL: database.url,
    REDIS_URL,
  }, app);
  await sluice.waitForLine((line) => line.includes('"msg":"sluice started"'));
}, 120_000);

afterAll(async () => {
  sluice?.kill("SIGKILL");
  await sluice?.exited;
  await database?.drop();
  if (app) rmSync(app, { recursive: true, force: true });
});

describe("the compiled runtime image layout", () => {
  it("serves the OpenAPI document from /docs", async () => {
    const docs = await fetch(`${base}/docs/openapi.json`);
    expect(docs.status).toBe(200);
    expect(await docs.json()).toMatchObject({ openapi: expect.stringMatching(/^3\./) });
  });

  it("reaches Postgres through the compiled Prisma client, and Redis", async () => {
    const ready = await fetch(`${base}/readyz`);
    expect(await ready.json()).toEqual({ status: "ok", postgres: true, redis: true });
  });

  it("reports the package version in error envelopes", async () => {
    const missing = await fetch(`${base}/no-such-route`);
    const { version } = JSON.parse(readFileSync(resolve(REPO_ROOT, "package.json"), "utf8")) as { version: string };
    expect(JSON.parse(((await missing.json()) as { error: string }).error)).toMatchObject({ version });
  });
});
