import { describe, expect, it } from "vitest";
import { expectEnvelope } from "../support/envelope.js";
import { useTestApp } from "../support/test-app.js";

// CONTRACT §5 and §8: an unreachable Postgres makes authoring answer 503 with Retry-After, never 500,
// and either dependency being unreachable makes the app unready but still alive.
// The app under test points at a port nothing listens on; `ctx.app.db` and `ctx.app.redis` still reach the real ones.

const UNREACHABLE_DATABASE = "postgresql://postgres@127.0.0.1:1/nope";
const UNREACHABLE_REDIS = "redis://127.0.0.1:1";
const UID = "00000000-0000-4000-8000-000000000000";

describe("with the database unreachable", () => {
  const ctx = useTestApp({ DATABASE_URL: UNREACHABLE_DATABASE });

  it.each([
    ["list", () => ctx.app.request().post("/authoring/list/throttlingConfigs")],
    ["create", () => ctx.app.request().post("/authoring/throttlingConfigs").send({ urlPattern: "https://a.example/*" })],
    ["get", () => ctx.app.request().get(`/journey/orchestration/throttlingConfigs/${UID}`)],
    ["deploy", () => ctx.app.request().post(`/authoring/throttlingConfigs/${UID}/deploy`)],
    ["delete", () => ctx.app.request().delete(`/authoring/throttlingConfigs/${UID}`)],
  ])("answers %s with 503 and Retry-After", async (_operation, request) => {
    const res = await request().set(ctx.tenant.headers());
    expectEnvelope(res, {
      status: 503,
      code: "ERR_DEPENDENCY_UNAVAILABLE",
      family: "UNAVAILABLE_ERROR",
      message: "a dependency (database or Redis) is unavailable; retry later",
      schema: "throttlingConfigs$prod",
    });
    expect(Number(res.headers["retry-after"])).toBeGreaterThan(0);
  });

  it("is not ready, naming Postgres", async () => {
    const res = await ctx.app.request().get("/readyz");
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ postgres: false, redis: true });
    expect(Number(res.headers["retry-after"])).toBeGreaterThan(0);
  });

  it("is still alive", async () => {
    const res = await ctx.app.request().get("/healthz");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ok" });
  });
});

describe("with Redis unreachable", () => {
  const ctx = useTestApp({ REDIS_URL: UNREACHABLE_REDIS });

  it("is not ready, naming Redis", async () => {
    const res = await ctx.app.request().get("/readyz");
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ postgres: true, redis: false });
    expect(Number(res.headers["retry-after"])).toBeGreaterThan(0);
  });

  it("is still alive", async () => {
    expect((await ctx.app.request().get("/healthz")).status).toBe(200);
  });
});
