import { beforeEach, describe, expect, it } from "vitest";
import { heartbeatKey } from "../../src/runtime/worker-heartbeats.js";
import { expectEnvelope } from "../support/envelope.js";
import { expectMatchesSpec } from "../support/openapi.js";
import { justCreatedBy } from "../support/metadata.js";
import { useTestApp } from "../support/test-app.js";
import { cappingApi, ENDPOINT_CONFIG } from "../support/capping-api.js";

// CONTRACT §12's lifecycle: created → (update) updated; deploy → deployed; an update of a deployed config keeps the
// deployed values in force; undeploy → back to created/updated; deploy refuses a config with problems; delete.

const ctx = useTestApp();
const api = cappingApi(ctx);
beforeEach(async () => {
  await ctx.app.db.cappingRuntime.deleteMany();
  await ctx.app.db.cappingConfig.deleteMany();
});

const OTHER_VALUES = {
  url: "https://API.example.org:443/data/3.0/*",
  methods: ["delete", "put"],
  services: {
    dataSource: { maxHttpConnections: 2, rating: { maxCallsCount: 100, periodInMs: 86_400_000 } },
    action: { rating: { maxCallsCount: 500, periodInMs: 3_600_000 } },
  },
};
/** What the runtime enforces for ENDPOINT_CONFIG and OTHER_VALUES: each service's limits, flat. */
const RUNTIME_VALUES = { url: ENDPOINT_CONFIG.url, methods: ["GET", "POST"], services: { action: { maxHttpConnections: 5, maxCallsCount: 20, periodInMs: 2000 } } };
const OTHER_RUNTIME_VALUES = {
  url: OTHER_VALUES.url,
  methods: ["DELETE", "PUT"],
  services: { dataSource: { maxHttpConnections: 2, maxCallsCount: 100, periodInMs: 86_400_000 }, action: { maxCallsCount: 500, periodInMs: 3_600_000 } },
};
const OTHER_DEPLOYED = { ...OTHER_VALUES, methods: ["DELETE", "PUT"] };

const DAY_MS = 24 * 3600_000;
const notFound = { status: 404, code: "ERR_ENDPOINTCONFIG_NOT_FOUND", family: "INPUT_OUTPUT_ERROR", message: "capping config: endpoint config not found", schema: "throttlingConfigs$prod" };

async function create(body: unknown = ENDPOINT_CONFIG): Promise<string> {
  const res = await api.create(body);
  expect(res.status, res.text).toBe(200);
  return res.body.uid as string;
}
const expectNoContent = async (res: PromiseLike<{ status: number; text: string }>) => {
  const answered = await res;
  expect(answered.status, answered.text).toBe(204);
  expect(answered.text).toBe("");
};
const getConfig = async (uid: string) => {
  const res = await api.get(uid);
  expect(res.status, res.text).toBe(200);
  expectMatchesSpec(res, "GET", "/endpointConfigs/{uid}");
  return res.body.result;
};
const runtimeOf = (uid: string) => ctx.app.db.cappingRuntime.findUniqueOrThrow({ where: { configUid: uid } });

describe("create, list and get", () => {
  it("answers with createdElement (every stored field), uid, uri, resStatus and canDeploy", async () => {
    const res = await api.create({ ...ENDPOINT_CONFIG, orgId: "" });
    expect(res.status).toBe(200);
    expectMatchesSpec(res, "POST", "/endpointConfigs");
    const { uid } = res.body;
    expect(res.body).toEqual({
      createdElement: {
        _id: `${uid}_${ctx.tenant.prodSandbox.id}`,
        uid,
        ...ENDPOINT_CONFIG,
        ...justCreatedBy(ctx.tenant),
        tenantId: "prod",
      },
      uid,
      uri: `/authoring/endpointConfigs/${uid}`,
      resStatus: "created",
      canDeploy: { validationStatus: "ok", warnings: [{ warningCode: "RUNTIME_NO_WORKER", warning: expect.any(String) }] },
    });
    expect(await getConfig(uid)).toEqual(res.body.createdElement);
  });

  it("gives uri under the base path the request used", async () => {
    const res = await cappingApi(ctx, "/journey/orchestration").create(ENDPOINT_CONFIG);
    expect(res.body.uri).toBe(`/journey/orchestration/endpointConfigs/${res.body.uid}`);
  });

  it("lists the org's configs, oldest first, many per org; another org's are not there", async () => {
    const first = await create();
    const second = await create(OTHER_VALUES);
    await cappingApi({ app: ctx.app, tenant: await ctx.app.createTenant() }).create(ENDPOINT_CONFIG);
    for (const base of ["/authoring", "/journey/orchestration"]) {
      const list = await cappingApi(ctx, base).list();
      expect(list.status).toBe(200);
      expectMatchesSpec(list, "POST", "/list/endpointConfigs");
      expect(list.body.results.map((config: { uid: string }) => config.uid)).toEqual([first, second]);
    }
  });

  it("answers ERR_ENDPOINTCONFIG_NOT_FOUND for an unknown uid, one that is not a uuid, and another org's, on every operation", async () => {
    const others = await create();
    const stranger = cappingApi({ app: ctx.app, tenant: await ctx.app.createTenant() });
    for (const [operations, uid] of [
      [api, "4b1a0b64-9f58-4a43-9d7e-2a7d9b1c0f00"],
      [api, "not-a-uuid"],
      [stranger, others],
    ] as const) {
      for (const res of [
        await operations.get(uid),
        await operations.update(uid, ENDPOINT_CONFIG),
        await operations.canDeploy(uid),
        await operations.canDeploy(uid, "post"),
        await operations.deploy(uid),
        await operations.undeploy(uid),
        await operations.remove(uid),
        await operations.remove(uid, true),
      ]) {
        expectEnvelope(res, notFound);
      }
    }
    expect(await getConfig(others)).toMatchObject({ state: "created", url: ENDPOINT_CONFIG.url });
  });
});

describe("lifecycle", () => {
  it("created → updated → deployed → (update) updated with the deployed values in force → deployed again → undeployed to updated", async () => {
    const uid = await create();
    const updated = await api.update(uid, OTHER_VALUES);
    expect(updated.status).toBe(200);
    expectMatchesSpec(updated, "PUT", "/endpointConfigs/{uid}");
    expect(updated.body).toMatchObject({ uid, uri: api.path(uid), resStatus: "updated", updatedElement: { state: "updated", hasBeenDeployed: false } });

    await expectNoContent(api.deploy(uid));
    const deployed = await getConfig(uid);
    expect(deployed).toMatchObject({
      state: "deployed",
      hasBeenDeployed: true,
      deployedConfig: OTHER_DEPLOYED,
      metadata: { lastDeployedBy: ctx.tenant.credentialName, lastDeployedById: ctx.tenant.clientId, lastDeployedAt: expect.any(String) },
      runtime: { version: 1, status: "active", queued: 0 },
    });
    const runtime = await runtimeOf(uid);
    expect(runtime).toMatchObject({ orgId: ctx.tenant.orgId, status: "active", version: 1, drainUntil: null, ...OTHER_RUNTIME_VALUES });

    // An update of a deployed config: `updated`, still deployed, the runtime keeps the deployed values.
    const live = await api.update(uid, ENDPOINT_CONFIG);
    expect(live.status).toBe(200);
    expect(live.body.updatedElement).toMatchObject({ ...ENDPOINT_CONFIG, state: "updated", hasBeenDeployed: true, deployedConfig: OTHER_DEPLOYED });
    expect(await runtimeOf(uid)).toMatchObject({ id: runtime.id, version: 1, ...OTHER_RUNTIME_VALUES });
    expect(await getConfig(uid)).toMatchObject({ state: "updated", deployedConfig: OTHER_DEPLOYED, runtime: { version: 1, status: "active" } });

    // The next deploy applies them, in place; deploying a deployed config applies its values again.
    await expectNoContent(api.deploy(uid));
    expect(await runtimeOf(uid)).toMatchObject({ id: runtime.id, version: 2, status: "active", ...RUNTIME_VALUES });
    expect(await getConfig(uid)).toMatchObject({ state: "deployed", deployedConfig: ENDPOINT_CONFIG, runtime: { version: 2 } });
    await expectNoContent(api.deploy(uid));
    expect(await runtimeOf(uid)).toMatchObject({ id: runtime.id, version: 3, ...RUNTIME_VALUES });

    const undeployedAt = Date.now();
    await expectNoContent(api.undeploy(uid));
    const undeployed = await getConfig(uid);
    expect(undeployed).toMatchObject({ state: "updated", hasBeenDeployed: false, runtime: { version: 3, status: "draining", drainUntil: expect.any(String) } });
    expect(undeployed).not.toHaveProperty("deployedConfig");
    const draining = await runtimeOf(uid);
    expect(draining.status).toBe("draining");
    expect(draining.drainUntil!.getTime() - undeployedAt).toBeGreaterThan(DAY_MS - 60_000);
    expect(draining.drainUntil!.getTime() - undeployedAt).toBeLessThanOrEqual(DAY_MS + 60_000);
  });

  it("undeploy returns a config that was never updated to `created`; undeploying one that is not deployed is 204 and changes nothing", async () => {
    const uid = await create();
    await expectNoContent(api.undeploy(uid));
    expect(await getConfig(uid)).toMatchObject({ state: "created", hasBeenDeployed: false });
    expect(await ctx.app.db.cappingRuntime.count()).toBe(0);

    await expectNoContent(api.deploy(uid));
    await expectNoContent(cappingApi(ctx, "/journey/orchestration").undeploy(uid));
    expect(await getConfig(uid)).toMatchObject({ state: "created", hasBeenDeployed: false });
    const drained = await runtimeOf(uid);
    await expectNoContent(api.undeploy(uid));
    expect(await runtimeOf(uid)).toEqual(drained);

    // A redeploy while it drains makes the same runtime active again.
    await expectNoContent(api.deploy(uid));
    expect(await runtimeOf(uid)).toMatchObject({ id: drained.id, status: "active", drainUntil: null, version: 2 });
  });

  it("refuses to deploy a config canDeploy reports errors for (ERR_ENDPOINTCONFIG_NOT_VALID, with them), on both base paths", async () => {
    const uid = await create({ url: "https://*.example.org/x", methods: ["GET"], services: { action: { rating: { maxCallsCount: 0, periodInMs: 1000 } } } });
    for (const base of ["/authoring", "/journey/orchestration"]) {
      const res = await cappingApi(ctx, base).deploy(uid);
      expectEnvelope(res, {
        status: 400,
        code: "ERR_ENDPOINTCONFIG_NOT_VALID",
        family: "INPUT_OUTPUT_ERROR",
        message: "capping config: can't deploy endpoint config: canDeploy reports errors",
        schema: "throttlingConfigs$prod",
      });
      expectMatchesSpec(res, "POST", "/endpointConfigs/{uid}/deploy");
      expect(res.body.canDeploy).toEqual({
        validationStatus: "error",
        reason: "2 error(s) currently blocking the publication",
        errors: [
          { errorCode: "ERR_ENDPOINTCONFIG_102", error: "capping config: malformed url: wildchar in url not allowed in host:port" },
          { errorCode: "ERR_ENDPOINTCONFIG_107", error: "capping config: invalid max calls count (maxCallsCount)" },
        ],
        warnings: [expect.objectContaining({ warningCode: "ERR_ENDPOINTCONFIG_106" })],
      });
    }
    expect(await getConfig(uid)).toMatchObject({ state: "created", hasBeenDeployed: false });
    expect(await ctx.app.db.cappingRuntime.count()).toBe(0);
  });

  it("a deployed config updated with problems keeps running its deployed values, and cannot be deployed until fixed", async () => {
    const uid = await create();
    await expectNoContent(api.deploy(uid));
    const broken = await api.update(uid, { ...ENDPOINT_CONFIG, methods: [] });
    expect(broken.body.canDeploy).toMatchObject({ validationStatus: "error", errors: [{ errorCode: "ERR_ENDPOINTCONFIG_103" }] });
    expectEnvelope(await api.deploy(uid), { status: 400, code: "ERR_ENDPOINTCONFIG_NOT_VALID", family: "INPUT_OUTPUT_ERROR" });
    expect(await runtimeOf(uid)).toMatchObject({ status: "active", version: 1, ...RUNTIME_VALUES });
    expect(await getConfig(uid)).toMatchObject({ state: "updated", hasBeenDeployed: true, deployedConfig: ENDPOINT_CONFIG });
  });

  it("GET → edit → PUT with every server-owned field left in the body works", async () => {
    const uid = await create();
    await expectNoContent(api.deploy(uid));
    const fetched = await getConfig(uid);
    expect(fetched).toHaveProperty("runtime");
    const edited = { ...fetched, services: { action: { ...fetched.services.action, maxHttpConnections: 7 } } };
    const res = await api.update(uid, edited);
    expect(res.status, res.text).toBe(200);
    expect(res.body.updatedElement).toMatchObject({
      uid,
      services: { action: { maxHttpConnections: 7, rating: ENDPOINT_CONFIG.services.action.rating } },
      state: "updated",
      hasBeenDeployed: true,
      deployedConfig: ENDPOINT_CONFIG,
      metadata: { createdAt: fetched.metadata.createdAt, lastDeployedAt: fetched.metadata.lastDeployedAt },
    });
    expect(res.body.updatedElement.metadata.lastModifiedAt >= fetched.metadata.lastModifiedAt).toBe(true);
    expect(res.body.canDeploy).toMatchObject({ validationStatus: "ok" });
  });
});

describe("delete", () => {
  it("deletes a config that is not deployed, answering {}", async () => {
    const uid = await create();
    const res = await api.remove(uid);
    expect(res.status).toBe(200);
    expectMatchesSpec(res, "DELETE", "/endpointConfigs/{uid}");
    expect(res.body).toEqual({});
    expectEnvelope(await api.get(uid), notFound);
  });

  it("refuses to delete a deployed config without forceDelete (1451), also once updated after its deploy", async () => {
    const uid = await create();
    await expectNoContent(api.deploy(uid));
    for (const body of [undefined, OTHER_VALUES]) {
      if (body) expect((await api.update(uid, body)).status).toBe(200);
      const res = await cappingApi(ctx, "/journey/orchestration").remove(uid);
      expectEnvelope(res, {
        status: 400,
        code: 1451,
        family: "INPUT_OUTPUT_ERROR",
        message: "Can't delete a deployed endpoint config. Undeploy it before deleting it",
        schema: "throttlingConfigs$prod",
      });
      expectMatchesSpec(res, "DELETE", "/endpointConfigs/{uid}");
    }
    expect(await getConfig(uid)).toMatchObject({ hasBeenDeployed: true });
  });

  it("forceDelete=true undeploys (the runtime drains for 24 h and outlives the config) and deletes in one call", async () => {
    const uid = await create();
    await expectNoContent(api.deploy(uid));
    const runtime = await runtimeOf(uid);
    const res = await api.remove(uid, true);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});
    expect(await ctx.app.db.cappingConfig.count({ where: { uid } })).toBe(0);
    const drained = await ctx.app.db.cappingRuntime.findUniqueOrThrow({ where: { id: runtime.id } });
    expect(drained).toMatchObject({ status: "draining", configUid: null, ...RUNTIME_VALUES });
    expect(drained.drainUntil!.getTime()).toBeGreaterThan(Date.now() + DAY_MS - 60_000);
    // The url is free again.
    await create();
  });
});

describe("canDeploy (GET and POST)", () => {
  it("reports ok with the no-worker warning until a runtime worker beats", async () => {
    const uid = await create();
    for (const method of ["get", "post"] as const) {
      const res = await api.canDeploy(uid, method);
      expect(res.status).toBe(200);
      expectMatchesSpec(res, method.toUpperCase(), "/endpointConfigs/{uid}/canDeploy");
      expect(res.body).toEqual({ canDeploy: { validationStatus: "ok", warnings: [{ warningCode: "RUNTIME_NO_WORKER", warning: expect.any(String) }] } });
    }
    await ctx.app.redis.zadd(heartbeatKey(ctx.app.redisPrefix), Date.now(), "worker-1");
    try {
      expect((await api.canDeploy(uid)).body).toEqual({ canDeploy: { validationStatus: "ok" } });
    } finally {
      await ctx.app.redis.del(heartbeatKey(ctx.app.redisPrefix));
    }
  });

  it("re-validates the stored config", async () => {
    const uid = await create();
    await ctx.app.db.cappingConfig.update({ where: { uid }, data: { url: "https://api.example.org/x?y=1" } });
    const res = await cappingApi(ctx, "/journey/orchestration").canDeploy(uid, "post");
    expect(res.body.canDeploy).toMatchObject({
      validationStatus: "error",
      errors: [{ errorCode: "ERR_ENDPOINTCONFIG_101", error: "capping config: malformed url" }],
    });
  });
});
