import { describe, expect, it } from "vitest";
import { useTestApp } from "../support/test-app.js";

const ctx = useTestApp({ REDIS_URL: "redis://127.0.0.1:1" });

describe("with Redis unreachable", () => {
  it("still creates the config and answers 200, with a readiness warning instead of a 503 after the commit", async () => {
    const res = await ctx.app
      .request()
      .post("/authoring/throttlingConfigs")
      .set(ctx.tenant.headers())
      .send({ urlPattern: "https://api.example.org/*", methods: ["GET"], maxThroughput: 300 });
    expect(res.status).toBe(200);
    expect(res.body.canDeploy).toEqual({
      validationStatus: "ok",
      warnings: [{ warningCode: "RUNTIME_UNKNOWN", warning: expect.stringContaining("Redis is unreachable") }],
    });
    expect(await ctx.app.db.throttlingConfig.count()).toBe(1);
  });
});
