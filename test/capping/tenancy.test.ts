import { beforeAll, describe, expect, it } from "vitest";
import { expectEnvelope } from "../support/envelope.js";
import { useTestApp } from "../support/test-app.js";
import { cappingApi, ENDPOINT_CONFIG } from "../support/capping-api.js";

// CONTRACT §12: the Capping API has the throttling API's headers, credentials, production-sandbox rule, envelope and
// request ids (§1–5), on both base paths; it shares them with the throttling API without changing its answers.

const ctx = useTestApp();
let uid: string;
beforeAll(async () => {
  const created = await cappingApi(ctx).create(ENDPOINT_CONFIG);
  uid = created.body.uid as string;
  expect((await cappingApi(ctx).deploy(uid)).status).toBe(204);
});

const BASES = ["/authoring", "/journey/orchestration"];

/** Every operation, as sent with `headers` under `base`. */
function operations(base: string, headers: Record<string, string>) {
  const api = cappingApi(ctx, base, () => headers);
  return {
    list: () => api.list(),
    create: () => api.create(ENDPOINT_CONFIG),
    get: () => api.get(uid),
    update: () => api.update(uid, ENDPOINT_CONFIG),
    canDeployGet: () => api.canDeploy(uid),
    canDeployPost: () => api.canDeploy(uid, "post"),
    deploy: () => api.deploy(uid),
    undeploy: () => api.undeploy(uid),
    delete: () => api.remove(uid, true),
  };
}

/** Each operation under each base path, with the headers `tamper` makes of the tenant's. */
async function answers(tamper: (headers: Record<string, string>) => Record<string, string>) {
  const all = [];
  for (const base of BASES) {
    for (const [name, send] of Object.entries(operations(base, tamper(ctx.tenant.headers())))) all.push({ route: `${base} ${name}`, res: await send() });
  }
  return all;
}

describe("credentials, org and sandbox, on every operation and both base paths", () => {
  it("401 without a valid credential", async () => {
    for (const { route, res } of await answers((headers) => ({ ...headers, Authorization: "Bearer sluice_wrong" }))) {
      expect(res.status, route).toBe(401);
      expectEnvelope(res, { status: 401, code: "ERR_UNAUTHORIZED", family: "AUTHENTICATION_ERROR", schema: "throttlingConfigs$prod" });
    }
  });

  it("403 for another org's id in x-gw-ims-org-id", async () => {
    const other = await ctx.app.createTenant();
    for (const { route, res } of await answers((headers) => ({ ...headers, "x-gw-ims-org-id": other.orgId }))) {
      expect(res.status, route).toBe(403);
      expectEnvelope(res, { status: 403, code: "ERR_ORG_MISMATCH", family: "AUTHORIZATION_ERROR", schema: "throttlingConfigs$prod" });
    }
  });

  it("400/1463 in a development sandbox", async () => {
    for (const { route, res } of await answers((headers) => ({ ...headers, "x-sandbox-name": "dev" }))) {
      expect(res.status, route).toBe(400);
      expectEnvelope(res, {
        status: 400,
        code: 1463,
        family: "INPUT_OUTPUT_ERROR",
        message: "Operation not allowed on throttling config: non prod sandbox",
        schema: "throttlingConfigs$dev",
      });
    }
  });

  it("500/4000 in an unknown sandbox, as in the seed's example", async () => {
    for (const { route, res } of await answers((headers) => ({ ...headers, "x-sandbox-name": "nowhere" }))) {
      expect(res.status, route).toBe(500);
      expectEnvelope(res, { status: 500, code: 4000, family: "INTERNAL_ERROR", message: "INTERNAL ERROR", schema: null });
    }
  });

  it("400 without x-sandbox-name", async () => {
    const { "x-sandbox-name": _omitted, ...headers } = ctx.tenant.headers();
    expectEnvelope(await operations("/authoring", headers).list(), { status: 400, code: "ERR_SANDBOX_REQUIRED", family: "INPUT_OUTPUT_ERROR" });
  });

  it("left the config as it was", async () => {
    expect((await cappingApi(ctx).get(uid)).body.result).toMatchObject({ state: "deployed", hasBeenDeployed: true, orgId: ctx.tenant.orgId });
  });
});

describe("next to the throttling API", () => {
  it("reuses an incoming x-request-id, and answers 415 to a body that is not JSON", async () => {
    const res = await cappingApi(ctx).get(uid).set("x-request-id", "client-trace_42.A");
    expect(res.headers["x-request-id"]).toBe("client-trace_42.A");
    const text = await ctx.app.request().post("/authoring/endpointConfigs").set(ctx.tenant.headers()).set("Content-Type", "text/plain").send("url=x");
    expectEnvelope(text, { status: 415, code: "ERR_UNSUPPORTED_MEDIA_TYPE", family: "INPUT_OUTPUT_ERROR" });
  });

  it("answers an unknown route under its paths with 404 after the credentials, like any authoring route", async () => {
    for (const path of ["/authoring/endpointConfigs", `/authoring/endpointConfigs/${uid}/publish`, "/authoring/list/endpointConfigs/all"]) {
      expectEnvelope(await ctx.app.request().get(path).set(ctx.tenant.headers()), { status: 404, code: "ERR_ROUTE_NOT_FOUND", family: "INPUT_OUTPUT_ERROR" });
      expectEnvelope(await ctx.app.request().get(path), { status: 401, code: "ERR_UNAUTHORIZED", family: "AUTHENTICATION_ERROR" });
    }
  });

  it("leaves the throttling routes, and their malformed-JSON answer, as they were", async () => {
    const list = await ctx.app.request().post("/authoring/list/throttlingConfigs").set(ctx.tenant.headers());
    expect(list.status).toBe(200);
    expect(list.body).toEqual({ results: [] });
    const malformed = await ctx.app
      .request()
      .post("/authoring/throttlingConfigs")
      .set(ctx.tenant.headers())
      .set("Content-Type", "application/json")
      .send("{");
    expectEnvelope(malformed, { status: 400, code: "ERR_THROTTLING_CONFIG_106", family: "INPUT_OUTPUT_ERROR" });
  });
});
