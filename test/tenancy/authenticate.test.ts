import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERRORS } from "../../src/shared/errors/catalogue.js";
import { expectEnvelope } from "../support/envelope.js";
import { startTestApp, type Tenant, type TestApp } from "../support/test-app.js";

let app: TestApp;
let orgA: Tenant;
let orgB: Tenant;
let uidA: string;

const PAYLOAD = { urlPattern: "https://api.example.org/*", methods: ["GET"], maxThroughput: 500 };

beforeAll(async () => {
  app = await startTestApp();
  orgA = await app.createTenant();
  orgB = await app.createTenant();
  const created = await app.request().post("/authoring/throttlingConfigs").set(orgA.headers()).send(PAYLOAD);
  uidA = created.body.uid;
  expect((await app.request().post(`/authoring/throttlingConfigs/${uidA}/deploy`).set(orgA.headers())).status).toBe(204);
});
afterAll(() => app.close());

const list = (headers: Record<string, string>) => app.request().post("/authoring/list/throttlingConfigs").set(headers);

describe("credentials (CONTRACT §2)", () => {
  it.each([
    ["no Authorization header", (h: Record<string, string>) => ({ ...h, Authorization: "" })],
    ["a non-Bearer scheme", (h: Record<string, string>) => ({ ...h, Authorization: h["Authorization"]!.replace("Bearer", "Basic") })],
    ["a wrong token", (h: Record<string, string>) => ({ ...h, Authorization: "Bearer sluice_wrong" })],
    ["no x-api-key", (h: Record<string, string>) => ({ ...h, "x-api-key": "" })],
    ["an unknown x-api-key", (h: Record<string, string>) => ({ ...h, "x-api-key": "sluice-unknown" })],
    ["another credential's client id", (h: Record<string, string>) => ({ ...h, "x-api-key": orgB.clientId })],
  ])("401 for %s", async (_case, tamper) => {
    const res = await list(tamper(orgA.headers()));
    expectEnvelope(res, { status: 401, code: "ERR_UNAUTHORIZED", family: "AUTHENTICATION_ERROR", schema: "throttlingConfigs$prod" });
  });

  it("401 for a revoked token", async () => {
    const extra = await app.tenancy.createCredential(orgA.orgId, "soon-revoked");
    const headers = { ...orgA.headers(), Authorization: `Bearer ${extra.token}`, "x-api-key": extra.clientId };
    expect((await list(headers)).status).toBe(200);
    expect(await app.tenancy.revokeCredential(extra.clientId)).toBe(true);
    expectEnvelope(await list(headers), { status: 401, code: "ERR_UNAUTHORIZED", family: "AUTHENTICATION_ERROR", schema: "throttlingConfigs$prod" });
  });

  it.each([
    ["another org's id", () => ({ ...orgA.headers(), "x-gw-ims-org-id": orgB.orgId })],
    ["no org header", () => ({ ...orgA.headers(), "x-gw-ims-org-id": "" })],
  ])("403 for %s in x-gw-ims-org-id", async (_case, headers) => {
    expectEnvelope(await list(headers()), { status: 403, code: "ERR_ORG_MISMATCH", family: "AUTHORIZATION_ERROR", schema: "throttlingConfigs$prod" });
  });

  it("stores only a hash of the token", async () => {
    const stored = await app.db.credential.findUniqueOrThrow({ where: { clientId: orgA.clientId } });
    expect(stored.tokenHash).not.toContain(orgA.token);
    expect(stored.tokenHash).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("sandboxes (CONTRACT §2)", () => {
  const operations: [string, (h: Record<string, string>) => Promise<import("supertest").Response>][] = [
    ["list", (h) => list(h)],
    ["create", (h) => app.request().post("/authoring/throttlingConfigs").set(h).send(PAYLOAD)],
    ["get", (h) => app.request().get(`/authoring/throttlingConfigs/${uidA}`).set(h)],
    ["update", (h) => app.request().put(`/authoring/throttlingConfigs/${uidA}`).set(h).send(PAYLOAD)],
    ["canDeploy", (h) => app.request().get(`/authoring/throttlingConfigs/${uidA}/canDeploy`).set(h)],
    ["deploy", (h) => app.request().post(`/authoring/throttlingConfigs/${uidA}/deploy`).set(h)],
    ["undeploy", (h) => app.request().post(`/authoring/throttlingConfigs/${uidA}/undeploy`).set(h)],
    ["delete", (h) => app.request().delete(`/authoring/throttlingConfigs/${uidA}?forceDelete=true`).set(h)],
  ];

  it.each(operations)("%s in a development sandbox is 400/1463", async (_op, call) => {
    const res = await call(orgA.headers("dev"));
    expectEnvelope(res, {
      status: 400,
      code: 1463,
      family: "INPUT_OUTPUT_ERROR",
      message: ERRORS.NON_PROD_SANDBOX.message,
      schema: "throttlingConfigs$dev",
    });
  });

  it.each(operations)("%s in an unknown sandbox is 500/4000", async (_op, call) => {
    const res = await call(orgA.headers("nowhere"));
    expectEnvelope(res, { status: 500, code: 4000, family: "INTERNAL_ERROR", message: "INTERNAL ERROR" });
    expect(JSON.parse(res.body.error)).not.toHaveProperty("schema");
  });

  it("a missing x-sandbox-name is a 400, not a 500", async () => {
    const { "x-sandbox-name": _omitted, ...headers } = orgA.headers();
    expectEnvelope(await list(headers), { status: 400, code: "ERR_SANDBOX_REQUIRED", family: "INPUT_OUTPUT_ERROR" });
  });
});

describe("org isolation", () => {
  it("org B does not see org A's config in its list", async () => {
    const res = await list(orgB.headers());
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ results: [] });
  });

  it.each([
    ["get", () => app.request().get(`/authoring/throttlingConfigs/${uidA}`)],
    ["update", () => app.request().put(`/authoring/throttlingConfigs/${uidA}`).send(PAYLOAD)],
    ["canDeploy", () => app.request().post(`/authoring/throttlingConfigs/${uidA}/canDeploy`)],
    ["deploy", () => app.request().post(`/authoring/throttlingConfigs/${uidA}/deploy`)],
    ["undeploy", () => app.request().post(`/authoring/throttlingConfigs/${uidA}/undeploy`)],
    ["delete", () => app.request().delete(`/authoring/throttlingConfigs/${uidA}?forceDelete=true`)],
  ])("org B's %s of org A's uid is 404/14467, indistinguishable from an unknown uid", async (_op, call) => {
    const res = await call().set(orgB.headers());
    expectEnvelope(res, { status: 404, code: 14467, family: "INPUT_OUTPUT_ERROR", message: ERRORS.NOT_FOUND.message, schema: "throttlingConfigs$prod" });
  });

  it("left org A's config untouched", async () => {
    const res = await app.request().get(`/authoring/throttlingConfigs/${uidA}`).set(orgA.headers());
    expect(res.body.result).toMatchObject({ state: "deployed", maxThroughput: 500, orgId: orgA.orgId });
  });
});
