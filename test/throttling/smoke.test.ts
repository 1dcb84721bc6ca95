import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp, type Tenant } from "../support/test-app.js";

let app: TestApp;
let tenant: Tenant;
beforeAll(async () => {
  app = await startTestApp();
  tenant = await app.createTenant();
});
afterAll(() => app.close());

describe("smoke", () => {
  it("creates, deploys and reads a config", async () => {
    const created = await app.request().post("/authoring/throttlingConfigs").set(tenant.headers())
      .send({ urlPattern: "https://api.example.org/data/*", methods: ["post", "PUT", "POST"], maxThroughput: 4000 });
    expect(created.status).toBe(200);
    const uid = created.body.uid;
    expect((await app.request().post(`/authoring/throttlingConfigs/${uid}/deploy`).set(tenant.headers())).status).toBe(204);
    const got = await app.request().get(`/journey/orchestration/throttlingConfigs/${uid}`).set(tenant.headers());
    expect(got.body.result.state).toBe("deployed");
  });
});
