import { randomUUID } from "node:crypto";
import type supertest from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectMatchesSpec } from "../support/openapi.js";
import { startTestApp, type Tenant, type TestApp } from "../support/test-app.js";

let app: TestApp;
let tenant: Tenant;
let created: supertest.Response;
beforeAll(async () => {
  app = await startTestApp();
  tenant = await app.createTenant();
  created = await app
    .request()
    .post("/authoring/throttlingConfigs")
    .set(tenant.headers())
    .send({ name: "spec", urlPattern: "https://api.example.org/data/*", methods: ["post", "PUT"], maxThroughput: 4000 });
});
afterAll(() => app.close());

/** The same response with some of it changed (the real response object keeps its header accessors). */
function tampered(response: supertest.Response, changes: Partial<supertest.Response>): supertest.Response {
  return Object.assign(Object.create(Object.getPrototypeOf(response) as object) as supertest.Response, response, changes);
}

describe("expectMatchesSpec", () => {
  it("accepts real responses: created, read, deployed (204), listed and rejected", async () => {
    expect(created.status).toBe(200);
    expectMatchesSpec(created, "POST", "/throttlingConfigs");
    const uid = String(created.body.uid);
    const request = () => app.request();

    expectMatchesSpec(await request().get(`/authoring/throttlingConfigs/${uid}`).set(tenant.headers()), "GET", "/throttlingConfigs/{uid}");
    const deployed = await request().post(`/authoring/throttlingConfigs/${uid}/deploy`).set(tenant.headers());
    expect(deployed.status).toBe(204);
    expectMatchesSpec(deployed, "POST", "/throttlingConfigs/{uid}/deploy");
    const listed = await request().post("/journey/orchestration/list/throttlingConfigs").set(tenant.headers());
    expect(listed.body.results).toHaveLength(1);
    // The documented `runtime` block of a deployed config, checked against the schema below.
    expect(listed.body.results[0].runtime).toMatchObject({ version: 1, status: "active" });
    expectMatchesSpec(listed, "POST", "/list/throttlingConfigs");

    const invalid = await request().put(`/authoring/throttlingConfigs/${uid}`).set(tenant.headers()).send({ methods: [] });
    expect(invalid.status).toBe(400);
    expectMatchesSpec(invalid, "PUT", "/throttlingConfigs/{uid}");
    const unauthenticated = await request().get(`/authoring/throttlingConfigs/${uid}`);
    expect(unauthenticated.status).toBe(401);
    expectMatchesSpec(unauthenticated, "GET", "/throttlingConfigs/{uid}");
    expectMatchesSpec(await request().get("/healthz"), "GET", "/healthz");
  });

  it("rejects a body that breaks the schema, naming the field", () => {
    const body = { ...created.body, createdElement: { ...created.body.createdElement, maxThroughput: "lots" } };
    expect(() => expectMatchesSpec(tampered(created, { body }), "POST", "/throttlingConfigs")).toThrow(
      /POST \/throttlingConfigs answered 200, which does not match openapi\.yaml:\n {2}- body\/createdElement\/maxThroughput must be integer/,
    );
  });

  it("rejects an error envelope whose error is not the documented JSON string", async () => {
    const notFound = await app.request().get(`/authoring/throttlingConfigs/${randomUUID()}`).set(tenant.headers());
    expectMatchesSpec(notFound, "GET", "/throttlingConfigs/{uid}");
    const inner = JSON.parse(notFound.body.error as string) as Record<string, unknown>;
    const { family: _family, ...withoutFamily } = inner;
    const body = { ...notFound.body, error: JSON.stringify(withoutFamily) };
    expect(() => expectMatchesSpec(tampered(notFound, { body }), "GET", "/throttlingConfigs/{uid}")).toThrow(
      /- error \(decoded\) must have required property 'family'/,
    );
    expect(() =>
      expectMatchesSpec(tampered(notFound, { body: { ...notFound.body, error: inner } }), "GET", "/throttlingConfigs/{uid}"),
    ).toThrow(/- body\/error must be string/);
  });

  it("rejects an undocumented status, a missing required header, and an undocumented operation", () => {
    expect(() => expectMatchesSpec(tampered(created, { status: 418 }), "POST", "/throttlingConfigs")).toThrow(
      /no 418 response is documented \(documented: 200, 400, 401, 403, 413, 415, 429, 500, 503\)/,
    );
    const withoutRequestId = tampered(created, { get: (() => undefined) as supertest.Response["get"] });
    expect(() => expectMatchesSpec(withoutRequestId, "POST", "/throttlingConfigs")).toThrow(/missing header x-request-id/);
    const withoutLimit = tampered(created, {
      get: ((name: string) => (name === "X-RateLimit-Limit" ? undefined : created.get(name))) as supertest.Response["get"],
    });
    expect(() => expectMatchesSpec(withoutLimit, "POST", "/throttlingConfigs")).toThrow(/missing header X-RateLimit-Limit/);
    expect(() => expectMatchesSpec(created, "PATCH", "/throttlingConfigs")).toThrow(/PATCH \/throttlingConfigs is not documented/);
  });
});
