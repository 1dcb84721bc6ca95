import { beforeEach, describe, expect, it } from "vitest";
import { ERRORS } from "../../src/shared/errors/catalogue.js";
import { heartbeatKey } from "../../src/runtime/worker-heartbeats.js";
import { expectEnvelope } from "../support/envelope.js";
import { expectMatchesSpec } from "../support/openapi.js";
import { justCreatedBy } from "../support/metadata.js";
import { useTestApp } from "../support/test-app.js";

const ctx = useTestApp();
beforeEach(async () => {
  await ctx.app.db.runtimeVersion.deleteMany();
  await ctx.app.db.throttlingConfig.deleteMany();
});

const BASE = "/authoring";
const PAYLOAD = {
  name: "throttling-config-external",
  description: "example of throttling config for an external endpoint",
  urlPattern: "https://api.example.org/data/2.5/*",
  methods: ["POST", "PUT"],
  maxThroughput: 4000,
};

const api = () => ctx.app.request();
const path = (uid: string, suffix = "") => `${BASE}/throttlingConfigs/${uid}${suffix}`;

async function createConfig(body: object = PAYLOAD): Promise<string> {
  const res = await api().post(`${BASE}/throttlingConfigs`).set(ctx.tenant.headers()).send(body);
  expect(res.status).toBe(200);
  return res.body.uid as string;
}
async function deploy(uid: string) {
  const res = await api().post(path(uid, "/deploy")).set(ctx.tenant.headers());
  expect(res.status).toBe(204);
}
const getConfig = async (uid: string) => (await api().get(path(uid)).set(ctx.tenant.headers())).body.result;
const update = (uid: string, body: object) => api().put(path(uid)).set(ctx.tenant.headers()).send(body);

describe("create", () => {
  it("answers like the seed: canDeploy, createdElement with every stored field, uid, uri, resStatus", async () => {
    const res = await api().post(`${BASE}/throttlingConfigs`).set(ctx.tenant.headers()).send(PAYLOAD);
    expect(res.status).toBe(200);
    expectMatchesSpec(res, "POST", "/throttlingConfigs");
    const { uid } = res.body;
    expect(res.body).toMatchObject({ uid, uri: `/authoring/throttlingConfigs/${uid}`, resStatus: "created" });
    expect(res.body.canDeploy.validationStatus).toBe("ok");
    expect(res.body.createdElement).toEqual({
      _id: `${uid}_${ctx.tenant.prodSandbox.id}`,
      uid,
      ...PAYLOAD,
      ...justCreatedBy(ctx.tenant),
    });
  });

  it("gives uri under the base path the request used", async () => {
    const res = await api().post("/journey/orchestration/throttlingConfigs").set(ctx.tenant.headers()).send(PAYLOAD);
    expect(res.body.uri).toBe(`/journey/orchestration/throttlingConfigs/${res.body.uid}`);
  });

  it("refuses a second config for the org with 1465", async () => {
    await createConfig();
    const res = await api().post(`${BASE}/throttlingConfigs`).set(ctx.tenant.headers()).send(PAYLOAD);
    expectEnvelope(res, { status: 400, code: 1465, family: "INPUT_OUTPUT_ERROR", message: ERRORS.CREATE_LIMIT.message, schema: "throttlingConfigs$prod" });
  });

  it("lets exactly one of 50 concurrent creates win; the rest get 1465", async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        api().post(`${BASE}/throttlingConfigs`).set(ctx.tenant.headers()).send({ ...PAYLOAD, name: `racer-${i}` }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    for (const loser of results.filter((r) => r.status !== 200)) {
      expectEnvelope(loser, { status: 400, code: 1465, family: "INPUT_OUTPUT_ERROR", schema: "throttlingConfigs$prod" });
    }
    expect(await ctx.app.db.throttlingConfig.count({ where: { orgId: ctx.tenant.orgId } })).toBe(1);
  });
});

describe("list and get", () => {
  it("list returns the org's configs; get returns one; an unknown or malformed uid is 14467", async () => {
    const uid = await createConfig();
    const list = await api().post(`${BASE}/list/throttlingConfigs`).set(ctx.tenant.headers());
    expect(list.status).toBe(200);
    expectMatchesSpec(list, "POST", "/list/throttlingConfigs");
    expect(list.body.results.map((c: { uid: string }) => c.uid)).toEqual([uid]);
    expect(await getConfig(uid)).toEqual(list.body.results[0]);
    for (const unknown of ["4b1a0b64-9f58-4a43-9d7e-2a7d9b1c0f00", "not-a-uuid"]) {
      const res = await api().get(path(unknown)).set(ctx.tenant.headers());
      expectEnvelope(res, { status: 404, code: 14467, family: "INPUT_OUTPUT_ERROR", message: ERRORS.NOT_FOUND.message, schema: "throttlingConfigs$prod" });
    }
  });
});

describe("state machine (CONTRACT §3)", () => {
  it("created → updated → deployed → (update) deployed → undeployed → updated → deployed again", async () => {
    const uid = await createConfig();
    expect((await getConfig(uid)).state).toBe("created");

    const updated = await update(uid, { ...PAYLOAD, maxThroughput: 3000 });
    expect(updated.status).toBe(200);
    expectMatchesSpec(updated, "PUT", "/throttlingConfigs/{uid}");
    expect(updated.body).toMatchObject({ uid, uri: path(uid), resStatus: "updated", canDeploy: { validationStatus: "ok" } });
    expect(updated.body.updatedElement).toMatchObject({ state: "updated", maxThroughput: 3000, hasBeenDeployed: false });

    await deploy(uid);
    const fetched = await api().get(path(uid)).set(ctx.tenant.headers());
    expectMatchesSpec(fetched, "GET", "/throttlingConfigs/{uid}");
    const deployed = fetched.body.result;
    expect(deployed).toMatchObject({
      state: "deployed",
      hasBeenDeployed: true,
      version: "1.0",
      deployedConfig: { ...PAYLOAD, maxThroughput: 3000 },
      metadata: { lastDeployedBy: ctx.tenant.credentialName, lastDeployedById: ctx.tenant.clientId, lastDeployedAt: expect.any(String) },
    });
    const [active] = await ctx.app.db.runtimeVersion.findMany({ where: { configUid: uid } });
    expect(active).toMatchObject({ version: 1, status: "active", maxThroughput: 3000, urlPattern: PAYLOAD.urlPattern, drainUntil: null });

    // Updating a deployed config keeps it deployed and changes the active runtime version in place.
    const live = await update(uid, { ...PAYLOAD, methods: ["GET"], maxThroughput: 5000 });
    expect(live.status).toBe(200);
    expect(live.body.updatedElement).toMatchObject({ state: "deployed", deployedConfig: { methods: ["GET"], maxThroughput: 5000 } });
    const versions = await ctx.app.db.runtimeVersion.findMany({ where: { configUid: uid } });
    expect(versions).toHaveLength(1);
    expect(versions[0]).toMatchObject({ id: active!.id, status: "active", methods: ["GET"], maxThroughput: 5000 });

    const undeployedAt = Date.now();
    expect((await api().post(path(uid, "/undeploy")).set(ctx.tenant.headers())).status).toBe(204);
    expect((await getConfig(uid)).state).toBe("undeployed");
    const draining = await ctx.app.db.runtimeVersion.findUniqueOrThrow({ where: { id: active!.id } });
    expect(draining.status).toBe("draining");
    expect(draining.drainUntil!.getTime() - undeployedAt).toBeGreaterThan(24 * 3600_000 - 60_000);
    expect(draining.drainUntil!.getTime() - undeployedAt).toBeLessThanOrEqual(24 * 3600_000 + 60_000);

    expect((await update(uid, PAYLOAD)).body.updatedElement.state).toBe("updated");
    await deploy(uid);
    expect(await getConfig(uid)).toMatchObject({ state: "deployed", version: "2.0", deployedConfig: PAYLOAD });
    const all = await ctx.app.db.runtimeVersion.findMany({ where: { orgId: ctx.tenant.orgId }, orderBy: { version: "asc" } });
    expect(all.map((v) => [v.version, v.status])).toEqual([
      [1, "draining"],
      [2, "active"],
    ]);
  });

  it("deploying a deployed config is 14466; undeploying an undeployed one is 14468", async () => {
    const uid = await createConfig();
    const notDeployed = await api().post(path(uid, "/undeploy")).set(ctx.tenant.headers());
    expectEnvelope(notDeployed, { status: 400, code: 14468, family: "INPUT_OUTPUT_ERROR", message: ERRORS.NOT_DEPLOYED.message, schema: "throttlingConfigs$prod" });
    await deploy(uid);
    const again = await api().post(path(uid, "/deploy")).set(ctx.tenant.headers());
    expectEnvelope(again, { status: 400, code: 14466, family: "INPUT_OUTPUT_ERROR", message: ERRORS.ALREADY_DEPLOYED.message, schema: "throttlingConfigs$prod" });
    expect(await ctx.app.db.runtimeVersion.count({ where: { configUid: uid } })).toBe(1);
  });

  it("updating a deployed config whose runtime version is not active is 1461 and changes nothing", async () => {
    const uid = await createConfig();
    await deploy(uid);
    await ctx.app.db.runtimeVersion.updateMany({ where: { configUid: uid }, data: { status: "draining" } });
    const res = await update(uid, { ...PAYLOAD, maxThroughput: 300 });
    expectEnvelope(res, { status: 400, code: 1461, family: "INPUT_OUTPUT_ERROR", message: ERRORS.UPDATE_NOT_ACTIVE.message, schema: "throttlingConfigs$prod" });
    expect(await getConfig(uid)).toMatchObject({ maxThroughput: 4000, deployedConfig: { maxThroughput: 4000 } });
  });

  it("GET → edit → PUT with every server-owned field left in the body works", async () => {
    const uid = await createConfig();
    await deploy(uid);
    const fetched = await getConfig(uid);
    const res = await update(uid, { ...fetched, description: "edited", maxThroughput: 250 });
    expect(res.status).toBe(200);
    expect(res.body.updatedElement).toMatchObject({
      uid,
      description: "edited",
      maxThroughput: 250,
      state: "deployed",
      version: "1.0",
      metadata: { createdAt: fetched.metadata.createdAt, lastDeployedAt: fetched.metadata.lastDeployedAt },
    });
    expect(res.body.updatedElement.metadata.lastModifiedAt >= fetched.metadata.lastModifiedAt).toBe(true);
  });

  it("update can clear the optional name and description", async () => {
    const uid = await createConfig();
    const res = await update(uid, { urlPattern: PAYLOAD.urlPattern, methods: ["GET"], maxThroughput: 200, name: null });
    expect(res.status).toBe(200);
    expect(res.body.updatedElement).not.toHaveProperty("name");
    expect(res.body.updatedElement).not.toHaveProperty("description");
  });
});

describe("delete", () => {
  it("deletes a config that is not deployed", async () => {
    const uid = await createConfig();
    const res = await api().delete(path(uid)).set(ctx.tenant.headers());
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});
    expectEnvelope(await api().get(path(uid)).set(ctx.tenant.headers()), { status: 404, code: 14467, family: "INPUT_OUTPUT_ERROR", schema: "throttlingConfigs$prod" });
  });

  it("refuses to delete a deployed config without forceDelete (1456)", async () => {
    const uid = await createConfig();
    await deploy(uid);
    const res = await api().delete(path(uid)).set(ctx.tenant.headers());
    expectEnvelope(res, { status: 400, code: 1456, family: "INPUT_OUTPUT_ERROR", message: ERRORS.DELETE_FORBIDDEN.message, schema: "throttlingConfigs$prod" });
    expect((await getConfig(uid)).state).toBe("deployed");
  });

  it("forceDelete=true undeploys (the runtime version drains for 24 h) and deletes in one call", async () => {
    const uid = await createConfig();
    await deploy(uid);
    const [version] = await ctx.app.db.runtimeVersion.findMany({ where: { configUid: uid } });
    const res = await api().delete(path(uid, "?forceDelete=true")).set(ctx.tenant.headers());
    expect(res.status).toBe(200);
    expectMatchesSpec(res, "DELETE", "/throttlingConfigs/{uid}");
    expect(res.body).toEqual({});
    expect(await ctx.app.db.throttlingConfig.count({ where: { uid } })).toBe(0);
    const drained = await ctx.app.db.runtimeVersion.findUniqueOrThrow({ where: { id: version!.id } });
    expect(drained).toMatchObject({ status: "draining", configUid: null, maxThroughput: 4000 });
    expect(drained.drainUntil!.getTime()).toBeGreaterThan(Date.now() + 23 * 3600_000);
    // The org can create (and deploy) a new config while the old version drains.
    await deploy(await createConfig());
  });
});

describe("canDeploy (GET and POST)", () => {
  it("reports ok with a warning while no runtime worker is alive, and without it once one beats", async () => {
    const uid = await createConfig();
    for (const method of ["get", "post"] as const) {
      const res = await api()[method](path(uid, "/canDeploy")).set(ctx.tenant.headers());
      expect(res.status).toBe(200);
      expect(res.body.canDeploy).toEqual({
        validationStatus: "ok",
        warnings: [{ warningCode: "RUNTIME_NO_WORKER", warning: expect.stringContaining("no runtime worker") }],
      });
    }
    await ctx.app.redis.zadd(heartbeatKey(ctx.app.redisPrefix), Date.now(), "worker-1");
    const res = await api().get(path(uid, "/canDeploy")).set(ctx.tenant.headers());
    expect(res.body).toEqual({ canDeploy: { validationStatus: "ok" } });
    await ctx.app.redis.del(heartbeatKey(ctx.app.redisPrefix));
  });

  it("re-validates the stored config", async () => {
    const uid = await createConfig();
    await ctx.app.db.throttlingConfig.update({ where: { uid }, data: { maxThroughput: 10, methods: [] } });
    const res = await api().post(path(uid, "/canDeploy")).set(ctx.tenant.headers());
    expect(res.status).toBe(200);
    expectMatchesSpec(res, "POST", "/throttlingConfigs/{uid}/canDeploy");
    expect(res.body.canDeploy).toEqual({
      validationStatus: "error",
      reason: "2 error(s) currently blocking the publication",
      errors: [
        { errorCode: "ERR_THROTTLING_CONFIG_100", error: "throttling config: methods required" },
        { errorCode: "ERR_THROTTLING_CONFIG_101", error: ERRORS.CONFIG_MAX_THROUGHPUT.message },
      ],
    });
  });

  it("is 14467 for an unknown uid", async () => {
    const res = await api().get(path("4b1a0b64-9f58-4a43-9d7e-2a7d9b1c0f00", "/canDeploy")).set(ctx.tenant.headers());
    expectEnvelope(res, { status: 404, code: 14467, family: "INPUT_OUTPUT_ERROR", schema: "throttlingConfigs$prod" });
  });
});
