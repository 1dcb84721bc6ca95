import { describe, expect, it } from "vitest";
import { withAdmin } from "./postgres.js";
import { useTestApp, type TestApp } from "./test-app.js";

// The timing tests are repeated once when a measurement fails; a repeat must not inherit the first attempt's state.
describe('useTestApp with scope "test"', () => {
  const ctx = useTestApp({}, "test");
  let first: TestApp | undefined;

  it("starts an app of its own for a test", async () => {
    first = ctx.app;
    const created = await ctx.app.request().post("/authoring/throttlingConfigs").set(ctx.tenant.headers())
      .send({ urlPattern: "https://example.com/*", methods: ["GET"], maxThroughput: 300 });
    expect(created.status).toBe(200);
  });

  it("and another one for the next test (or attempt): new database, Redis prefix and tenant; the old database is gone", async () => {
    expect(first).toBeDefined();
    expect(ctx.app.database.name).not.toBe(first!.database.name);
    expect(ctx.app.redisPrefix).not.toBe(first!.redisPrefix);
    const list = await ctx.app.request().post("/authoring/list/throttlingConfigs").set(ctx.tenant.headers());
    expect(list.status).toBe(200);
    expect(list.body.results).toEqual([]);
    const found = await withAdmin((admin) => admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [first!.database.name]));
    expect(found.rowCount).toBe(0);
  });
});
