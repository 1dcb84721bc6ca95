import { setTimeout as sleep } from "node:timers/promises";
import { parseList } from "structured-headers";
import supertest from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Plan } from "../../src/generated/prisma/client.js";
import { cliEnvOf, sluiceOk } from "../cli/cli-process.js";
import { startApiProcess } from "../support/api-process.js";
import { expectEnvelope } from "../support/envelope.js";
import { startTestApp, type Tenant, type TestApp } from "../support/test-app.js";

// CONTRACT §7 across two API processes sharing Redis: the in-process app and a real `SERVICES=api` process.
let app: TestApp;
let replica: Awaited<ReturnType<typeof startApiProcess>>;
beforeAll(async () => {
  app = await startTestApp();
  replica = await startApiProcess(app);
});
afterAll(async () => {
  replica?.process.kill("SIGTERM");
  await replica?.process.exited;
  await app?.close();
});

/** Replica 0 is the in-process app, replica 1 the API process. */
const on = (replicaIndex: number) => supertest.agent(replicaIndex === 0 ? app.url : replica.url);

const tenantOn = (plan: Plan): Promise<Tenant> => app.createTenant(undefined, { plan });

const list = (tenant: Tenant, replicaIndex = 0) => on(replicaIndex).post("/authoring/list/throttlingConfigs").set(tenant.headers());

const limitHeaders = (res: supertest.Response) => ({
  limit: Number(res.headers["x-ratelimit-limit"]),
  remaining: Number(res.headers["x-ratelimit-remaining"]),
  reset: Number(res.headers["x-ratelimit-reset"]),
});

/** Sends `count` requests one at a time, alternating between the two replicas; resolves to their responses. */
async function alternating(count: number, send: (replicaIndex: number) => supertest.Test): Promise<supertest.Response[]> {
  const responses: supertest.Response[] = [];
  for (let i = 0; i < count; i++) responses.push(await send(i % 2));
  return responses;
}

function expectRateLimited(res: supertest.Response, limitClass: string, limit: number): number {
  expectEnvelope(res, { status: 429, code: "ERR_RATE_LIMITED", family: "RATE_LIMIT_ERROR" });
  const retryAfter = Number(res.headers["retry-after"]);
  expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60).toBe(true);
  expect(limitHeaders(res)).toMatchObject({ limit, remaining: 0 });
  expect(res.headers["ratelimit"]).toBe(`"${limitClass}";r=0;t=${retryAfter}`);
  return retryAfter;
}

describe("authoring ceiling on plan S: 300 per sliding 60 s, shared by both API processes", () => {
  it("accepts exactly 300, counting down on both; the 301st gets 429 with Retry-After; the oldest free first", { timeout: 120_000 }, async () => {
    const tenant = await tenantOn("S");
    const first = await alternating(150, (i) => list(tenant, i));
    const firstSent = Date.now();
    await sleep(20_000);
    const second = await alternating(150, (i) => list(tenant, i));
    const accepted = [...first, ...second];
    expect(accepted.map((res) => res.status)).toEqual(Array(300).fill(200));
    expect(accepted.map((res) => limitHeaders(res).limit)).toEqual(Array(300).fill(300));
    expect(accepted.map((res) => limitHeaders(res).remaining)).toEqual(Array.from({ length: 300 }, (_, i) => 299 - i));

    for (const replicaIndex of [0, 1]) {
      const refused = await list(tenant, replicaIndex);
      const retryAfter = expectRateLimited(refused, "authoring", 300);
      // The first 150 leave the window 60 s after they were sent, about 40 s from now.
      expect(retryAfter).toBeGreaterThan(30);
      expect(retryAfter).toBeLessThanOrEqual(41);
    }
    // Nothing is stored for a refused request.
    const create = await on(1).post("/authoring/throttlingConfigs").set(tenant.headers())
      .send({ urlPattern: "https://api.example.org/*", methods: ["GET"], maxThroughput: 500 });
    expect(create.status).toBe(429);
    expect(await app.db.throttlingConfig.count({ where: { orgId: tenant.orgId } })).toBe(0);

    // Sliding, not a fixed window: once the first 150 are 60 s old, exactly 150 places free, not 300.
    await sleep(firstSent + 60_500 - Date.now());
    const refill = await alternating(160, (i) => list(tenant, i));
    expect(refill.map((res) => res.status)).toEqual([...Array(150).fill(200), ...Array(10).fill(429)]);
  });

  it("a batch of calls counts once", async () => {
    const tenant = await tenantOn("S");
    const calls = Array.from({ length: 50 }, (_, i) => ({ method: "POST", url: `https://api.example.org/batch/${i}` }));
    const batch = await on(0).post("/runtime/calls/batch").set(tenant.headers()).send({ calls });
    expect(batch.status).toBe(202);
    expect(limitHeaders(batch)).toMatchObject({ limit: 3_000, remaining: 2_999 });
    const single = await on(1).post("/runtime/calls").set(tenant.headers()).send(calls[0]);
    expect(single.status).toBe(202);
    expect(limitHeaders(single)).toMatchObject({ limit: 3_000, remaining: 2_998 });
    expect(single.headers["ratelimit-policy"]).toBe('"runtime";q=3000;w=60');
  });

  it("another org is unaffected by an org at its ceiling", async () => {
    const busy = await tenantOn("S");
    await alternating(300, (i) => list(busy, i));
    expectRateLimited(await list(busy, 1), "authoring", 300);
    const other = await tenantOn("S");
    const res = await list(other, 1);
    expect(res.status).toBe(200);
    expect(limitHeaders(res)).toMatchObject({ limit: 300, remaining: 299 });
  });

  it("each plan scales the ceilings: M ×4, L ×16, XL ×64", async () => {
    for (const [plan, factor] of [["M", 4], ["L", 16], ["XL", 64]] as const) {
      const tenant = await tenantOn(plan);
      expect(limitHeaders(await list(tenant, 1))).toMatchObject({ limit: 300 * factor, remaining: 300 * factor - 1 });
      const call = await on(0).post("/runtime/calls").set(tenant.headers()).send({ method: "GET", url: "https://api.example.org/plan" });
      expect(limitHeaders(call)).toMatchObject({ limit: 3_000 * factor });
    }
  });

  it("`sluice org raise-limit` lifts the ceiling on both processes until its time, then the plan's applies again", { timeout: 60_000 }, async () => {
    const tenant = await tenantOn("S");
    await alternating(300, (i) => list(tenant, i));
    expectRateLimited(await list(tenant, 0), "authoring", 300);

    const until = new Date(Date.now() + 6_000);
    const raised = await sluiceOk(cliEnvOf(app), "org", "raise-limit", tenant.orgId, "--class", "authoring", "--per-minute", "320", "--until", until.toISOString());
    expect(raised).toEqual({ orgId: tenant.orgId, limitClass: "authoring", perMinute: 320, until: until.toISOString() });
    for (const replicaIndex of [0, 1]) {
      const res = await list(tenant, replicaIndex);
      expect(res.status).toBe(200);
      expect(limitHeaders(res).limit).toBe(320);
    }
    // The runtime class keeps the plan's ceiling.
    const call = await on(1).post("/runtime/calls").set(tenant.headers()).send({ method: "GET", url: "https://api.example.org/raise" });
    expect(limitHeaders(call).limit).toBe(3_000);

    await sleep(until.getTime() - Date.now() + 100);
    for (const replicaIndex of [0, 1]) expectRateLimited(await list(tenant, replicaIndex), "authoring", 300);
  });
});

describe("headers on every authenticated response", () => {
  let tenant: Tenant;
  let uid: string;
  beforeAll(async () => {
    tenant = await tenantOn("M");
    const created = await on(0).post("/authoring/throttlingConfigs").set(tenant.headers())
      .send({ urlPattern: "https://api.example.org/*", methods: ["GET"], maxThroughput: 500 });
    uid = created.body.uid;
  });

  const cases: [string, number, string, () => supertest.Test][] = [
    ["a GET", 200, "authoring", () => on(1).get(`/authoring/throttlingConfigs/${uid}`).set(tenant.headers())],
    ["a capping list", 200, "authoring", () => on(0).post("/authoring/list/endpointConfigs").set(tenant.headers())],
    ["an invalid payload (400)", 400, "authoring", () => on(0).put(`/authoring/throttlingConfigs/${uid}`).set(tenant.headers()).send({ maxThroughput: 1 })],
    ["an unknown config (404)", 404, "authoring", () => on(1).get("/journey/orchestration/throttlingConfigs/00000000-0000-4000-8000-000000000000").set(tenant.headers())],
    ["another org's id header (403)", 403, "authoring", () => on(0).get(`/authoring/throttlingConfigs/${uid}`).set({ ...tenant.headers(), "x-gw-ims-org-id": "OTHER@AdobeOrg" })],
    ["an unknown sandbox (500)", 500, "authoring", () => on(1).get(`/authoring/throttlingConfigs/${uid}`).set(tenant.headers("nope"))],
    ["a call (202)", 202, "runtime", () => on(0).post("/runtime/calls").set(tenant.headers()).send({ method: "GET", url: "https://api.example.org/h" })],
    ["an invalid call (400)", 400, "runtime", () => on(1).post("/runtime/calls").set(tenant.headers()).send({ method: "GET" })],
    ["an unknown call (404)", 404, "runtime", () => on(0).get("/runtime/calls/nope").set(tenant.headers())],
  ];

  it.each(cases)("%s carries the five, and the IETF fields parse as structured fields", async (_case, status, limitClass, send) => {
    const res = await send();
    expect(res.status).toBe(status);
    const { limit, remaining, reset } = limitHeaders(res);
    expect(limit).toBe(limitClass === "authoring" ? 1_200 : 12_000);
    expect(Number.isInteger(remaining) && remaining >= 0 && remaining < limit).toBe(true);
    expect(Number.isInteger(reset) && Math.abs(reset - Date.now() / 1000) <= 61).toBe(true);

    const [policy] = parseList(res.headers["ratelimit-policy"] as string);
    expect(policy?.[0]).toBe(limitClass);
    expect(Object.fromEntries(policy![1])).toEqual({ q: limit, w: 60 });
    const [current] = parseList(res.headers["ratelimit"] as string);
    expect(current?.[0]).toBe(limitClass);
    const params = Object.fromEntries(current![1]);
    expect(params["r"]).toBe(remaining);
    expect(Number.isInteger(params["t"]) && (params["t"] as number) >= 0 && (params["t"] as number) <= 60).toBe(true);
  });

  it("health, readiness, metrics and docs are not limited", async () => {
    for (const path of ["/healthz", "/readyz", "/metrics", "/docs/openapi.yaml"]) {
      const res = await on(0).get(path);
      expect(res.status, path).toBeLessThan(400);
      expect(res.headers["x-ratelimit-limit"], path).toBeUndefined();
    }
  });
});

describe("caches answer to changes on every API process within 1 s", () => {
  it("a revoked credential gets 401 on both processes within 1 s", async () => {
    const tenant = await tenantOn("M");
    for (const replicaIndex of [0, 1]) expect((await list(tenant, replicaIndex)).status).toBe(200);
    const revokedAt = Date.now();
    await app.tenancy.revokeCredential(tenant.clientId);
    for (const replicaIndex of [0, 1]) {
      while ((await list(tenant, replicaIndex)).status !== 401) {
        expect(Date.now() - revokedAt).toBeLessThan(1_000);
        await sleep(20);
      }
    }
    expect(Date.now() - revokedAt).toBeLessThan(1_000);
  });

  it("a plan change applies on both processes within 1 s of the CLI's answer, even from an exact window to buckets", async () => {
    const tenant = await tenantOn("S");
    for (const replicaIndex of [0, 1]) expect(limitHeaders(await list(tenant, replicaIndex)).limit).toBe(300);
    await sluiceOk(cliEnvOf(app), "org", "set-plan", tenant.orgId, "XL");
    const changedAt = Date.now();
    for (const replicaIndex of [0, 1]) {
      let res = await list(tenant, replicaIndex);
      while (limitHeaders(res).limit !== 19_200) {
        expect(Date.now() - changedAt).toBeLessThan(1_000);
        await sleep(20);
        res = await list(tenant, replicaIndex);
      }
      expect(res.status).toBe(200);
      expect(limitHeaders(res).remaining).toBeGreaterThan(19_000);
    }
  });

  it("a deploy through one process is matched by new submissions on the other within 1 s", async () => {
    const tenant = await tenantOn("M");
    const submit = () => on(1).post("/runtime/calls").set(tenant.headers()).send({ method: "POST", url: "https://api.example.org/deploy/x" });
    expect((await submit()).body.throttled).toBe(false);
    const created = await on(0).post("/authoring/throttlingConfigs").set(tenant.headers())
      .send({ urlPattern: "https://api.example.org/deploy/*", methods: ["POST"], maxThroughput: 500 });
    expect((await on(0).post(`/authoring/throttlingConfigs/${created.body.uid}/deploy`).set(tenant.headers())).status).toBe(204);
    const deployedAt = Date.now();
    let accepted = await submit();
    while (!accepted.body.throttled) {
      expect(Date.now() - deployedAt).toBeLessThan(1_000);
      await sleep(20);
      accepted = await submit();
    }
    expect(accepted.body).toMatchObject({ throttled: true, throttlingConfigUid: created.body.uid });
  });
});
