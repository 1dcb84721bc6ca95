import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrisma } from "../../src/db/prisma.js";
import { beforeAnyApiProcess, TenancyService } from "../../src/tenancy/tenancy.service.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { startSink, type Sink } from "../support/sink.js";
import { egressAllowFor } from "../support/egress-allow.js";
import { REDIS_URL } from "../support/test-app.js";
import { freePort, REPO_ROOT, startSluiceProcess, type SluiceProcess } from "../process/sluice-process.js";
import { instructionArgs, parseDockerfile, runtimeCommand } from "./dockerfile.js";

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
      // As Docker does: a directory's contents go into the destination, a file goes into it under its own name.
      for (const source of parts) {
        const from = resolve(REPO_ROOT, source);
        cpSync(from, statSync(from).isDirectory() ? destination : join(destination, basename(source)), { recursive: true });
      }
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
let worker: SluiceProcess;
let base: string;
let sink: Sink;
// A private prefix: the worker must only see the calls this file submits.
const REDIS_PREFIX = `sluice-image-${randomBytes(6).toString("hex")}`;
const ADMIN_TOKEN = randomBytes(16).toString("hex");

beforeAll(async () => {
  app = mkdtempSync(join(tmpdir(), "sluice-image-"));
  database = await createTestDatabase();
  await assembleRuntimeImage(app);
  const { nodeArgs, entry } = runtimeCommand(resolve(REPO_ROOT, "Dockerfile"));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  sink = await startSink();
  const shared = { NODE_ENV: "production", DATABASE_URL: database.url, REDIS_URL, REDIS_PREFIX, ...egressAllowFor(sink.url) };
  // The two services docker-compose runs from this image: `api` and `worker`.
  sluice = startSluiceProcess(entry, { ...shared, SERVICES: "api", HOST: "127.0.0.1", PORT: String(port), ADMIN_TOKEN }, app, nodeArgs);
  worker = startSluiceProcess(entry, { ...shared, SERVICES: "worker" }, app, nodeArgs);
  await sluice.waitForLine((line) => line.includes('"msg":"sluice started"'));
  await worker.waitForLine((line) => line.includes('"msg":"runtime worker started"'));
}, 120_000);

afterAll(async () => {
  for (const child of [sluice, worker]) child?.kill("SIGKILL");
  await Promise.all([sluice?.exited, worker?.exited]);
  await sink?.close();
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${REDIS_PREFIX}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
  await database?.drop();
  if (app) rmSync(app, { recursive: true, force: true });
});

describe("the compiled runtime image layout", () => {
  it("serves the OpenAPI document from /docs", async () => {
    const docs = await fetch(`${base}/docs/openapi.json`);
    expect(docs.status).toBe(200);
    expect(await docs.json()).toMatchObject({ openapi: expect.stringMatching(/^3\./) });
  });

  it("serves the API reference and the console, with the files their pages load", async () => {
    const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };
    for (const path of ["/docs", "/docs/assets/reference.js", "/docs/assets/swagger-ui-bundle.js", "/console", "/console/assets/console.js", "/console/assets/uPlot.iife.min.js"]) {
      expect((await fetch(`${base}${path}`, { headers: admin })).status, path).toBe(200);
    }
  });

  it("reaches Postgres through the compiled Prisma client, and Redis", async () => {
    const ready = await fetch(`${base}/readyz`);
    expect(await ready.json()).toMatchObject({ status: "ok", postgres: true, redis: true });
  });

  it("reports the package version in error envelopes", async () => {
    const missing = await fetch(`${base}/no-such-route`);
    const { version } = JSON.parse(readFileSync(resolve(REPO_ROOT, "package.json"), "utf8")) as { version: string };
    expect(JSON.parse(((await missing.json()) as { error: string }).error)).toMatchObject({ version });
  });

  it("runs the worker service: a call the compiled API accepts reaches its target", async () => {
    const db = createPrisma(database.url, 1);
    const tenancy = new TenancyService(db, beforeAnyApiProcess);
    const orgId = "IMAGE0TEST@AdobeOrg";
    await tenancy.createOrg(orgId);
    const credential = await tenancy.createCredential(orgId, "image-test");
    await db.$disconnect();
    const accepted = await fetch(`${base}/runtime/calls`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${credential.token}`,
        "x-api-key": credential.clientId,
        "x-gw-ims-org-id": orgId,
        "content-type": "application/json",
      },
      body: JSON.stringify({ method: "POST", url: `${sink.url}/image`, body: { from: "compiled image" } }),
    });
    expect(accepted.status).toBe(202);
    const [arrival] = await sink.waitForArrivals(1, { pathPrefix: "/image", timeoutMs: 10_000 });
    expect(JSON.parse(arrival!.body)).toEqual({ from: "compiled image" });
  });
});
