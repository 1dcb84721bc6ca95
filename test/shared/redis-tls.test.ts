import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrisma } from "../../src/db/prisma.js";
import { beforeAnyApiProcess, TenancyService } from "../../src/tenancy/tenancy.service.js";
import { freePort, startSluiceProcess, type SluiceProcess } from "../process/sluice-process.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { selfSignedCertificate, startRedisCluster, startTlsRedis, type TlsFiles } from "../support/redis-cluster.js";
import { waitFor } from "../support/timing.js";

// CONTRACT §13: `rediss://` works on one Redis and on a cluster. Each Redis here speaks TLS only, with a self-signed
// certificate that the Sluice process trusts through NODE_EXTRA_CA_CERTS, as a private CA would be trusted.
const ORG = `ORG${randomBytes(6).toString("hex").toUpperCase()}@AdobeOrg`;
let dir: string;
let tls: TlsFiles;
let database: TestDatabase;
let headers: Record<string, string>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sluice-tls-"));
  tls = await selfSignedCertificate(dir);
  database = await createTestDatabase();
  const db = createPrisma(database.url, 2);
  const tenancy = new TenancyService(db, beforeAnyApiProcess);
  await tenancy.createOrg(ORG);
  await tenancy.createSandbox(ORG, "prod", "production");
  const credential = await tenancy.createCredential(ORG, "tls-test");
  await db.$disconnect();
  headers = { Authorization: `Bearer ${credential.token}`, "x-api-key": credential.clientId, "x-gw-ims-org-id": ORG, "x-sandbox-name": "prod" };
});
afterAll(async () => {
  await database?.drop();
  await rm(dir, { recursive: true, force: true });
});

/** An API process on `redis`; it is ready, lists `nodes` as answering masters, and queues a call. */
async function expectWorkingApi(redis: Record<string, string>, nodes: string[]): Promise<void> {
  const port = await freePort();
  const sluice: SluiceProcess = startSluiceProcess("src/main.ts", {
    SERVICES: "api",
    HOST: "127.0.0.1",
    PORT: String(port),
    DATABASE_URL: database.url,
    REDIS_PREFIX: `sluice-tls-${randomBytes(4).toString("hex")}`,
    NODE_EXTRA_CA_CERTS: tls.certFile,
    ...redis,
  });
  try {
    await sluice.waitForLine((line) => line.includes("sluice started"));
    // Ready once the client has reached Redis (a cluster client first reads the slot table), as a probe would wait.
    let body: { redis: boolean; redisNodes: { node: string; role: string; ok: boolean }[] } | undefined;
    await waitFor(
      async () => {
        const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
        body = (await ready.json()) as typeof body;
        return ready.status === 200;
      },
      { timeoutMs: 10_000, message: "/readyz answers 200" },
    ).catch((error: Error) => {
      throw new Error(`${error.message}; last: ${JSON.stringify(body)}`);
    });
    expect(body!.redisNodes.map((n) => `${n.role} ${n.node} ${n.ok}`).sort()).toEqual(nodes.map((node) => `master ${node} true`).sort());
    const call = await fetch(`http://127.0.0.1:${port}/runtime/calls`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify({ method: "POST", url: "https://api.example.org/tls" }),
    });
    expect(call.status).toBe(202);
    const { callId } = (await call.json()) as { callId: string };
    const record = await fetch(`http://127.0.0.1:${port}/runtime/calls/${callId}`, { headers });
    expect(record.status).toBe(200);
    expect(await record.json()).toMatchObject({ callId, state: "queued" });
  } finally {
    sluice.kill("SIGTERM");
    await sluice.exited;
  }
}

describe("rediss://", () => {
  it("one Redis: REDIS_URL=rediss://…", async () => {
    const redis = await startTlsRedis(tls);
    try {
      await expectWorkingApi({ REDIS_URL: `rediss://127.0.0.1:${redis.port}` }, [`127.0.0.1:${redis.port}`]);
    } finally {
      await redis.stop();
    }
  });

  it("a cluster: REDIS_CLUSTER_NODES=rediss://…", async () => {
    const cluster = await startRedisCluster({ masters: 3, tls });
    try {
      await expectWorkingApi({ REDIS_CLUSTER_NODES: cluster.nodes.map((node) => `rediss://${node}`).join(",") }, cluster.nodes);
    } finally {
      await cluster.stop();
    }
  });
});
