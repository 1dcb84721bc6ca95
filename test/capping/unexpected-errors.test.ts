import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { expectEnvelope } from "../support/envelope.js";
import { prepareSabotage, rejecting, unreadable, whileBroken } from "../support/sabotage.js";
import { useTestApp } from "../support/test-app.js";
import { cappingApi, ENDPOINT_CONFIG } from "../support/capping-api.js";

// A statement that fails (as opposed to an unreachable database) answers 500 with the operation's own code
// (ERR_ENDPOINTCONFIG_<operation>_FAILED), and the transaction leaves nothing half-written.

const ctx = useTestApp();
const api = cappingApi(ctx);
beforeAll(() => prepareSabotage(ctx.app));

const unexpected = (operation: string, verb: string) => ({
  status: 500,
  code: `ERR_ENDPOINTCONFIG_${operation}_FAILED`,
  family: "INTERNAL_ERROR",
  message: `Can't ${verb} endpoint config: unexpected error occurs`,
  schema: "throttlingConfigs$prod",
});

/** A config, deployed if asked, at a url of its own. */
async function config(deployed = false): Promise<string> {
  const res = await api.create({ ...ENDPOINT_CONFIG, url: `https://api.example.org/${randomUUID()}/*` });
  expect(res.status, res.text).toBe(200);
  const uid = res.body.uid as string;
  if (deployed) expect((await api.deploy(uid)).status).toBe(204);
  return uid;
}

const stored = (uid: string) => ctx.app.db.cappingConfig.findUnique({ where: { uid } });
const runtimeOf = (uid: string) => ctx.app.db.cappingRuntime.findUnique({ where: { configUid: uid } });

describe("unexpected database failures", () => {
  it("answers a failed create with ERR_ENDPOINTCONFIG_CREATE_FAILED and stores nothing", async () => {
    const before = await ctx.app.db.cappingConfig.count();
    const res = await whileBroken(ctx.app, rejecting("INSERT", "capping_configs"), () => api.create(ENDPOINT_CONFIG));
    expectEnvelope(res, unexpected("CREATE", "create"));
    expect(await ctx.app.db.cappingConfig.count()).toBe(before);
  });

  it("answers a failed get and list: ERR_ENDPOINTCONFIG_GET_FAILED, and 4000 for a list, which has no code of its own", async () => {
    const uid = await config();
    const [get, list] = await whileBroken(ctx.app, unreadable("capping_configs", "url"), () => Promise.all([api.get(uid), api.list()]));
    expectEnvelope(get, unexpected("GET", "get"));
    expectEnvelope(list, { status: 500, code: 4000, family: "INTERNAL_ERROR", message: "INTERNAL ERROR" });
  });

  it("answers a failed update with ERR_ENDPOINTCONFIG_UPDATE_FAILED and changes nothing", async () => {
    const uid = await config(true);
    const before = await stored(uid);
    const res = await whileBroken(ctx.app, rejecting("UPDATE", "capping_configs"), () => api.update(uid, { ...ENDPOINT_CONFIG, methods: ["PATCH"] }));
    expectEnvelope(res, unexpected("UPDATE", "update"));
    expect(await stored(uid)).toEqual(before);
  });

  it.each([
    ["its runtime cannot be written", rejecting("INSERT", "capping_runtimes")],
    ["the config cannot be marked deployed", rejecting("UPDATE", "capping_configs")],
  ])("answers a failed deploy (%s) with ERR_ENDPOINTCONFIG_DEPLOY_FAILED and deploys nothing", async (_label, sabotage) => {
    const uid = await config();
    const res = await whileBroken(ctx.app, sabotage, () => api.deploy(uid));
    expectEnvelope(res, unexpected("DEPLOY", "deploy"));
    expect(await stored(uid)).toMatchObject({ state: "created", hasBeenDeployed: false, deployedConfig: null });
    expect(await runtimeOf(uid)).toBeNull();
  });

  it.each([
    ["its runtime cannot drain", rejecting("UPDATE", "capping_runtimes")],
    ["the config cannot be marked undeployed", rejecting("UPDATE", "capping_configs")],
  ])("answers a failed undeploy (%s) with ERR_ENDPOINTCONFIG_UNDEPLOY_FAILED and keeps it deployed", async (_label, sabotage) => {
    const uid = await config(true);
    const res = await whileBroken(ctx.app, sabotage, () => api.undeploy(uid));
    expectEnvelope(res, unexpected("UNDEPLOY", "undeploy"));
    expect(await stored(uid)).toMatchObject({ state: "deployed", hasBeenDeployed: true });
    expect(await runtimeOf(uid)).toMatchObject({ status: "active", drainUntil: null });
  });

  it("answers a failed forced delete with ERR_ENDPOINTCONFIG_DELETE_FAILED and keeps the config deployed", async () => {
    const uid = await config(true);
    const res = await whileBroken(ctx.app, rejecting("DELETE", "capping_configs"), () => api.remove(uid, true));
    expectEnvelope(res, unexpected("DELETE", "delete"));
    expect(await stored(uid)).toMatchObject({ state: "deployed" });
    expect(await runtimeOf(uid)).toMatchObject({ status: "active", drainUntil: null });
  });
});
