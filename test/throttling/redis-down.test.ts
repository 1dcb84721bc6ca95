import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type Tenant, type TestApp } from "../support/test-app.js";

let app: TestApp;
let tenant: Tenant;
beforeAll(async () => {
  app = await startTestApp({ REDIS_URL: "redis://127.0.0.1:1" });
  tenant = await app.createTenant();
});
afterAll(() => app.close());

describe("with Redis unreachable", () => {
  it("still creates the config and answers 200, with a readiness warning instead of a 503 after the commit", async () => {
    const res = await app
      .request()
      .post("/authoring/throttlingConfigs")
      .set(tenant.headers())
      .send({ urlPattern: "https://api.example.org/*", methods: ["GET"], maxThroughput: 300 });
    expect(res.status).toBe(200);
    expect(res.body.canDeploy).toEqual({
      validationStatus: "ok",
      warnings: [{ warningCode: "RUNTIME_UNKNOWN", warning: expect.stringContaining("Redis is unreachable") }],
    });
    expect(await app.db.throttlingConfig.count()).toBe(1);
  });

  it("reports not ready", async () => {
    const res = await app.request().get("/readyz");
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ postgres: true, redis: false });
  });
});
