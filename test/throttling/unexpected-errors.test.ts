import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectEnvelope } from "../support/envelope.js";
import { prepareSabotage, rejecting, unreadable, whileBroken } from "../support/sabotage.js";
import { startTestApp, type TestApp, type Tenant } from "../support/test-app.js";

// CONTRACT §5: a statement that fails (as opposed to an unreachable database) answers 500 with the
// operation's "unexpected error" code, and the transaction leaves nothing half-written.
// The database is broken for real: a trigger that raises, or a renamed column.

const VALUES = { urlPattern: "https://api.example.org/data/*", methods: ["POST"], maxThroughput: 1000 };
const NEW_VALUES = { urlPattern: "https://other.example.org/*", methods: ["GET"], maxThroughput: 300 };

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
  await prepareSabotage(app);
});
afterAll(() => app.close());

/** Reads of throttling configs fail: a column they select is gone. */
const UNREADABLE_CONFIGS = unreadable("throttling_configs", "url_pattern");

const unexpected = (code: number, message: string) => ({
  status: 500,
  code,
  family: "INTERNAL_ERROR",
  message,
  schema: "throttlingConfigs$prod",
});

const base = (uid: string) => `/authoring/throttlingConfigs/${uid}`;

/** A tenant with one config, created (and deployed if asked) through the API. */
async function tenantWithConfig(deployed = false): Promise<{ tenant: Tenant; uid: string }> {
  const tenant = await app.createTenant();
  const created = await app.request().post("/authoring/throttlingConfigs").set(tenant.headers()).send(VALUES);
  expect(created.status, created.text).toBe(200);
  const uid = created.body.uid as string;
  if (deployed) expect((await app.request().post(`${base(uid)}/deploy`).set(tenant.headers())).status).toBe(204);
  return { tenant, uid };
}

const storedConfig = (uid: string) => app.db.throttlingConfig.findUnique({ where: { uid } });
const runtimeVersions = (uid: string) => app.db.runtimeVersion.findMany({ where: { configUid: uid } });

describe("unexpected database failures", () => {
  it("answers a failed create with 1464 and stores nothing", async () => {
    const tenant = await app.createTenant();
    const res = await whileBroken(app, rejecting("INSERT", "throttling_configs"), () =>
      app.request().post("/authoring/throttlingConfigs").set(tenant.headers()).send(VALUES),
    );
    expectEnvelope(res, unexpected(1464, "Can't create throttling config: unexpected error occurs"));
    expect(await app.db.throttlingConfig.count({ where: { orgId: tenant.orgId } })).toBe(0);
  });

  it("answers a failed get with 1460", async () => {
    const { tenant, uid } = await tenantWithConfig();
    const res = await whileBroken(app, UNREADABLE_CONFIGS, () => app.request().get(base(uid)).set(tenant.headers()));
    expectEnvelope(res, unexpected(1460, "Can't get throttling config: unexpected error occurs"));
  });

  // A deployed config's update writes both tables: whichever write fails, neither may stick.
  it.each([
    ["a created config whose row rejects the write", false, rejecting("UPDATE", "throttling_configs")],
    ["a deployed config whose runtime version rejects the write", true, rejecting("UPDATE", "runtime_versions")],
    ["a deployed config whose row rejects the write", true, rejecting("UPDATE", "throttling_configs")],
  ])("answers a failed update of %s with 1462 and changes nothing", async (_label, deployed, sabotage) => {
    const { tenant, uid } = await tenantWithConfig(deployed);
    const [configBefore, runtimeBefore] = [await storedConfig(uid), await runtimeVersions(uid)];
    const res = await whileBroken(app, sabotage, () => app.request().put(base(uid)).set(tenant.headers()).send(NEW_VALUES));
    expectEnvelope(res, unexpected(1462, "Can't update throttling config: unexpected error occurs"));
    expect(await storedConfig(uid)).toEqual(configBefore);
    expect(await runtimeVersions(uid)).toEqual(runtimeBefore);
  });

  it.each([
    ["no runtime version can be created", rejecting("INSERT", "runtime_versions")],
    ["the config cannot be marked deployed", rejecting("UPDATE", "throttling_configs")],
  ])("answers a failed deploy (%s) with 1458 and deploys nothing", async (_label, sabotage) => {
    const { tenant, uid } = await tenantWithConfig();
    const res = await whileBroken(app, sabotage, () => app.request().post(`${base(uid)}/deploy`).set(tenant.headers()));
    expectEnvelope(res, unexpected(1458, "Can't deploy throttling config: unexpected error occurs"));
    expect(await storedConfig(uid)).toMatchObject({ state: "created", hasBeenDeployed: false, version: null, deployedConfig: null });
    expect(await runtimeVersions(uid)).toEqual([]);
  });

  it.each([
    ["the runtime version cannot drain", rejecting("UPDATE", "runtime_versions")],
    ["the config cannot be marked undeployed", rejecting("UPDATE", "throttling_configs")],
  ])("answers a failed undeploy (%s) with 1459 and keeps it deployed", async (_label, sabotage) => {
    const { tenant, uid } = await tenantWithConfig(true);
    const res = await whileBroken(app, sabotage, () => app.request().post(`${base(uid)}/undeploy`).set(tenant.headers()));
    expectEnvelope(res, unexpected(1459, "Can't undeploy throttling config: unexpected error occurs"));
    expect(await storedConfig(uid)).toMatchObject({ state: "deployed" });
    expect(await runtimeVersions(uid)).toEqual([expect.objectContaining({ status: "active", drainUntil: null })]);
  });

  it("answers a failed delete with 1457 and keeps the config", async () => {
    const { tenant, uid } = await tenantWithConfig();
    const res = await whileBroken(app, rejecting("DELETE", "throttling_configs"), () =>
      app.request().delete(base(uid)).set(tenant.headers()),
    );
    expectEnvelope(res, unexpected(1457, "Can't delete throttling config: unexpected error occurs"));
    expect(await storedConfig(uid)).toMatchObject({ uid, state: "created" });
  });

  it("answers a failed forced delete of a deployed config with 1457 and keeps it deployed", async () => {
    const { tenant, uid } = await tenantWithConfig(true);
    const res = await whileBroken(app, rejecting("DELETE", "throttling_configs"), () =>
      app.request().delete(`${base(uid)}?forceDelete=true`).set(tenant.headers()),
    );
    expectEnvelope(res, unexpected(1457, "Can't delete throttling config: unexpected error occurs"));
    expect(await storedConfig(uid)).toMatchObject({ state: "deployed" });
    expect(await runtimeVersions(uid)).toEqual([expect.objectContaining({ status: "active", drainUntil: null })]);
  });
});
