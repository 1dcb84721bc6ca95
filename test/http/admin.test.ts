import { describe, expect, it } from "vitest";
import { adminDisabled, withoutTokenParam } from "../../src/http/admin-session.js";
import { throttledLane, unthrottledLane } from "../../src/runtime/keys.js";
import { expectEnvelope } from "../support/envelope.js";
import { useTestApp } from "../support/test-app.js";

// Bull Board at /admin/queues: disabled (401) without ADMIN_TOKEN; with it, a bearer token or the cookie a first visit
// with ?token= sets, compared in constant time.

const TOKEN = "admin-token-0123456789abcdef";

describe("without ADMIN_TOKEN", () => {
  const ctx = useTestApp();

  it.each(["/admin/queues", "/admin/queues/api/queues"])("%s answers 401 saying the page is disabled, whatever the token", async (path) => {
    const res = await ctx.app.request().get(path).set("Authorization", `Bearer ${TOKEN}`);
    expectEnvelope(res, { status: 401, code: "ERR_UNAUTHORIZED", family: "AUTHENTICATION_ERROR", message: adminDisabled("/admin/queues") });
  });
});

describe("with ADMIN_TOKEN", () => {
  const ctx = useTestApp({ ADMIN_TOKEN: TOKEN });
  const unauthorized = { status: 401, code: "ERR_UNAUTHORIZED", family: "AUTHENTICATION_ERROR" };

  it.each([
    ["no credentials", {}],
    ["a wrong bearer token", { Authorization: "Bearer admin-token-0123456789abcdeX" }],
    ["a prefix of the token", { Authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
    ["the token in another scheme", { Authorization: `Basic ${TOKEN}` }],
    ["a forged cookie", { Cookie: `sluice_admin=${TOKEN}` }],
  ])("refuses %s with 401", async (_case, headers: Record<string, string>) => {
    expectEnvelope(await ctx.app.request().get("/admin/queues").set(headers), unauthorized);
  });

  it("serves the board's HTML to the right bearer token, without X-Powered-By", async () => {
    const res = await ctx.app.request().get("/admin/queues").set("Authorization", `Bearer ${TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/html/);
    expect(res.text).toContain('<base href="/admin/queues/" />');
    expect(res.headers).not.toHaveProperty("x-powered-by");
  });

  it("lists the current lanes' queues, read-only: a runtime version deployed after startup, and each org's unthrottled queue once it has calls", async () => {
    const headers = ctx.tenant.headers();
    const created = await ctx.app.request().post("/authoring/throttlingConfigs").set(headers)
      .send({ urlPattern: "https://api.example.org/*", methods: ["GET"], maxThroughput: 300 });
    await ctx.app.request().post(`/authoring/throttlingConfigs/${created.body.uid}/deploy`).set(headers).expect(204);
    const version = await ctx.app.db.runtimeVersion.findFirstOrThrow({ where: { configUid: created.body.uid } });
    await ctx.app.request().post("/runtime/calls").set(headers).send({ method: "POST", url: "https://api.example.org/x" }).expect(202);

    const res = await ctx.app.request().get("/admin/queues/api/queues").set("Authorization", `Bearer ${TOKEN}`);
    expect(res.status).toBe(200);
    const queues = res.body.queues as { name: string; readOnlyMode: boolean; description: string }[];
    const unthrottled = ctx.app.keys.queueName(unthrottledLane(ctx.tenant.orgId));
    const throttled = ctx.app.keys.queueName(throttledLane(version.id));
    expect(queues.map((q) => q.name).sort()).toEqual([throttled, unthrottled].sort());
    expect(queues.every((q) => q.readOnlyMode)).toBe(true);
    expect(queues.find((q) => q.name === throttled)!.description).toBe(
      `org ${ctx.tenant.orgId}, runtime version 1 (active)`,
    );
    expect(queues.find((q) => q.name === unthrottled)!.description).toBe(
      `org ${ctx.tenant.orgId}: calls that match no deployed throttling config`,
    );
  });

  it("a first visit with ?token= sets an HttpOnly cookie (not the token itself) and redirects without the token", async () => {
    const res = await ctx.app.request().get(`/admin/queues?token=${TOKEN}`);
    expect(res.status).toBe(303);
    expect(res.headers["location"]).toBe("/admin/queues/");
    const cookie = (res.headers["set-cookie"] as unknown as string[])[0]!;
    expect(cookie).toMatch(/^sluice_admin=[^;]+; Max-Age=43200; Path=\/admin\/queues; Expires=[^;]+; HttpOnly; SameSite=Strict$/);
    expect(cookie).not.toContain(TOKEN);
  });

  it("the cookie then opens the page and its static assets, as a browser would load them", async () => {
    const agent = ctx.app.request();
    await agent.get(`/admin/queues?token=${TOKEN}`).expect(303);
    const page = await agent.get("/admin/queues");
    expect(page.status).toBe(200);
    const script = /<script defer src="(static\/js\/main\.[^"]+\.js)"/.exec(page.text)?.[1];
    expect(script).toBeDefined();

    const asset = await agent.get(`/admin/queues/${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers["content-type"]).toMatch(/javascript/);
    expectEnvelope(await ctx.app.request().get(`/admin/queues/${script}`), unauthorized);
  });

  it("the redirect stays on this host even when the path starts with //", async () => {
    const res = await ctx.app.request().get(`//admin/queues/queue/unthrottled?token=${TOKEN}&page=2`);
    expect(res.status).toBe(303);
    expect(res.headers["location"]).toBe("/admin/queues/queue/unthrottled?page=2");
  });

  it("a wrong ?token= sets no cookie", async () => {
    const res = await ctx.app.request().get("/admin/queues?token=not-the-admin-token");
    expectEnvelope(res, unauthorized);
    expect(res.headers).not.toHaveProperty("set-cookie");
  });
});

describe("withoutTokenParam (request logs)", () => {
  it.each([
    ["/admin/queues?token=secret", "/admin/queues"],
    ["/admin/queues/queue/rv-1?token=secret&page=2", "/admin/queues/queue/rv-1?page=2"],
    ["/authoring/throttlingConfigs?x=1", "/authoring/throttlingConfigs?x=1"],
  ])("%s is logged as %s", (url, logged) => {
    expect(withoutTokenParam(url)).toBe(logged);
  });
});
