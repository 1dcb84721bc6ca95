import supertest from "supertest";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { startApiProcess } from "../support/api-process.js";
import { expectEnvelope } from "../support/envelope.js";
import type { SluiceProcess } from "../process/sluice-process.js";
import { useTestApp } from "../support/test-app.js";
import { cappingApi, ENDPOINT_CONFIG } from "../support/capping-api.js";

// CONTRACT §12: many configs per org, at most one per (org, url) for any one method. The url compares as the runtime
// matches it (scheme and host case-insensitive, default port implied).

const ctx = useTestApp();
const api = cappingApi(ctx);
beforeEach(() => ctx.app.db.cappingConfig.deleteMany());

const DUPLICATE = { status: 400, code: "ERR_ENDPOINTCONFIG_DUPLICATE", family: "INPUT_OUTPUT_ERROR", schema: "throttlingConfigs$prod" };
const MESSAGE = "capping config: another endpoint config of the organization has this url and one of these methods";

async function create(body: object = ENDPOINT_CONFIG): Promise<string> {
  const res = await api.create(body);
  expect(res.status, res.text).toBe(200);
  return res.body.uid as string;
}

describe("the duplicate rule", () => {
  it.each([
    ["the same url and methods", ENDPOINT_CONFIG.url, ["GET", "POST"]],
    ["one shared method", ENDPOINT_CONFIG.url, ["post", "DELETE"]],
    ["the scheme and host in capitals and the default port", "HTTPS://API.Example.ORG:443/data/2.5/*", ["GET"]],
  ])("refuses a create with %s, naming the other config, and stores nothing", async (_case, url, methods) => {
    const first = await create();
    const res = await api.create({ ...ENDPOINT_CONFIG, url, methods });
    const { inner } = expectEnvelope(res, { ...DUPLICATE, message: MESSAGE });
    expect(inner.context).toContain(first);
    expect(await ctx.app.db.cappingConfig.count()).toBe(1);
  });

  it.each([
    ["other methods", { methods: ["PUT", "PATCH", "DELETE"] }],
    ["another path", { url: "https://api.example.org/data/3.0/*" }],
    ["another port", { url: "https://api.example.org:8443/data/2.5/*" }],
    ["another scheme", { url: "http://api.example.org/data/2.5/*" }],
    ["no method (stored with a canDeploy error)", { methods: [] }],
  ])("stores a second config of the org with the same url but %s", async (_case, change) => {
    await create();
    await create({ ...ENDPOINT_CONFIG, ...change });
    expect(await ctx.app.db.cappingConfig.count()).toBe(2);
  });

  it("compares urls canDeploy reports as they are given", async () => {
    await create({ ...ENDPOINT_CONFIG, url: "" });
    expectEnvelope(await api.create({ ...ENDPOINT_CONFIG, url: "" }), { ...DUPLICATE, message: MESSAGE });
    await create({ ...ENDPOINT_CONFIG, url: "https://*.example.org/x" });
    await create({ ...ENDPOINT_CONFIG, url: "https://*.EXAMPLE.org/x" });
  });

  it("lets another org have the same url and methods", async () => {
    await create();
    const other = cappingApi({ app: ctx.app, tenant: await ctx.app.createTenant() });
    expect((await other.create(ENDPOINT_CONFIG)).status).toBe(200);
  });

  it("refuses an update onto another config's url and method, on both base paths, and changes nothing; a config does not clash with itself", async () => {
    const first = await create();
    const second = await create({ ...ENDPOINT_CONFIG, methods: ["DELETE"] });
    for (const base of ["/authoring", "/journey/orchestration"]) {
      const { inner } = expectEnvelope(await cappingApi(ctx, base).update(second, { ...ENDPOINT_CONFIG, methods: ["DELETE", "GET"] }), {
        ...DUPLICATE,
        message: MESSAGE,
      });
      expect(inner.context).toContain(first);
    }
    expect(await ctx.app.db.cappingConfig.findUniqueOrThrow({ where: { uid: second } })).toMatchObject({ methods: ["DELETE"], state: "created" });
    expect((await api.update(first, { ...ENDPOINT_CONFIG, methods: ["GET", "POST", "PATCH"] })).status).toBe(200);
  });
});

describe("under concurrent creates", () => {
  let other: { url: string; process: SluiceProcess } | undefined;
  afterAll(async () => {
    other?.process.kill("SIGTERM");
    await other?.process.exited;
  });

  it("lets exactly one win, however many API processes they reach", async () => {
    other = await startApiProcess(ctx.app);
    const apis = [ctx.app.request(), supertest.agent(other.url)];
    // Each round races creates of one url for a new org (so no process queues them) through both processes at once.
    const tenants = await Promise.all(Array.from({ length: 25 }, () => ctx.app.createTenant()));
    const rounds = await Promise.all(
      tenants.map((tenant) =>
        Promise.all(
          Array.from({ length: 4 }, (_, i) =>
            apis[i % 2]!
              .post("/authoring/endpointConfigs")
              .set(tenant.headers())
              .send({ ...ENDPOINT_CONFIG, methods: i < 2 ? ["GET"] : ["POST", "GET"] }),
          ),
        ),
      ),
    );
    for (const results of rounds) {
      expect(results.map((res) => res.status).sort()).toEqual([200, 400, 400, 400]);
      for (const loser of results.filter((res) => res.status !== 200)) expectEnvelope(loser, { ...DUPLICATE, message: MESSAGE });
    }
    expect(await ctx.app.db.cappingConfig.count({ where: { orgId: { in: tenants.map((tenant) => tenant.orgId) } } })).toBe(tenants.length);
  });
});
