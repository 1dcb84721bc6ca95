import { describe, expect, it } from "vitest";
import { z } from "zod";
import { configLive, consoleOrg, failedCall } from "../../src/console/console.schema.js";
import { adminDisabled, adminUnauthorized } from "../../src/http/admin-session.js";
import { throttledLane } from "../../src/runtime/keys.js";
import { expectEnvelope } from "../support/envelope.js";
import { deployConfig, getCall, submitBatch, useRuntime, waitForCallStates } from "../support/runtime.js";
import { startSink } from "../support/sink.js";
import { useTestApp } from "../support/test-app.js";
import { waitFor } from "../support/timing.js";

// The operator console (/console and the JSON API its page polls): behind ADMIN_TOKEN, live figures per deployed
// config, recent failures with replay, and never a call's headers, body or query string.

const TOKEN = "console-admin-token-0123456789";
const admin = { Authorization: `Bearer ${TOKEN}` };
const unauthorized = { status: 401, code: "ERR_UNAUTHORIZED", family: "AUTHENTICATION_ERROR", message: adminUnauthorized("/console") };
/** The first defined value `read` gives within `timeoutMs`. */
async function until<T>(read: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  let value: T | undefined;
  await waitFor(async () => (value = await read()) !== undefined, { timeoutMs, intervalMs: 100 });
  return value!;
}

const API_PATHS = ["/console/api/orgs", "/console/api/configs/00000000-0000-4000-8000-000000000000/live", "/console/api/orgs/x/failures"];

describe("without ADMIN_TOKEN", () => {
  const ctx = useTestApp();

  it.each(["/console", ...API_PATHS])("%s answers 401 saying the console is disabled, whatever the token", async (path) => {
    const res = await ctx.app.request().get(path).set(admin);
    expectEnvelope(res, { status: 401, code: "ERR_UNAUTHORIZED", family: "AUTHENTICATION_ERROR", message: adminDisabled("/console") });
  });
});

describe("with ADMIN_TOKEN", () => {
  const rt = useRuntime({ startSink, env: { ADMIN_TOKEN: TOKEN } });
  const { ctx } = rt;
  /** Every console answer the tests read, to check none carries what a call sent or received. */
  const answers: string[] = [];
  const consoleGet = async <T extends z.ZodType>(path: string, schema: T): Promise<z.output<T>> => {
    const res = await ctx.app.request().get(path).set(admin);
    expect(res.status, res.text).toBe(200);
    answers.push(res.text);
    return schema.parse(res.body);
  };
  const orgs = () => consoleGet("/console/api/orgs", z.object({ orgs: z.array(consoleOrg) })).then((body) => body.orgs);
  const live = (uid: string) => consoleGet(`/console/api/configs/${uid}/live`, configLive);
  const failures = (orgId: string) => consoleGet(`/console/api/orgs/${encodeURIComponent(orgId)}/failures`, z.object({ calls: z.array(failedCall) })).then((body) => body.calls);

  it.each([
    ["no credentials", {}],
    ["a wrong bearer token", { Authorization: `Bearer ${TOKEN.slice(0, -1)}X` }],
    ["a tenant's credentials", "tenant"],
    ["a forged cookie", { Cookie: `sluice_admin=${TOKEN}` }],
  ] as const)("refuses %s with 401 on the page and every API path", async (_case, headers) => {
    for (const path of ["/console", ...API_PATHS]) {
      const res = await ctx.app.request().get(path).set(headers === "tenant" ? ctx.tenant.headers() : headers);
      expectEnvelope(res, unauthorized);
    }
  });

  it("serves the page, its script and its chart library to the token, each allowed to load only from this origin", async () => {
    for (const [path, type] of [
      ["/console", /^text\/html/],
      ["/console/assets/console.js", /javascript/],
      ["/console/assets/console.css", /^text\/css/],
      ["/console/assets/uPlot.iife.min.js", /javascript/],
    ] as const) {
      const res = await ctx.app.request().get(path).set(admin);
      expect(res.status, path).toBe(200);
      expect(res.headers["content-type"], path).toMatch(type);
      expect(res.headers["content-security-policy"], path).toContain("default-src 'self'");
    }
    const other = await ctx.app.request().get("/console/assets/package.json").set(admin);
    expectEnvelope(other, { status: 404, code: "ERR_ROUTE_NOT_FOUND", family: "INPUT_OUTPUT_ERROR" });
  });

  it("lets a browser in with ?token= once: a 303 to the page without the token and a session cookie scoped to /console", async () => {
    const first = await ctx.app.request().get(`/console?token=${TOKEN}`);
    expect(first.status).toBe(303);
    expect(first.headers["location"]).toBe("/console/");
    const cookie = String(first.headers["set-cookie"]);
    expect(cookie).toMatch(/Path=\/console;/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).not.toContain(TOKEN);
    const res = await ctx.app.request().get("/console/api/orgs").set("Cookie", cookie.split(";")[0]!);
    expect(res.status).toBe(200);
  });

  it("lists every org with its configs, their state and, once deployed, their runtime block", async () => {
    const tenant = await ctx.app.createTenant();
    const other = { app: ctx.app, tenant };
    const created = await ctx.app.request().post("/authoring/throttlingConfigs").set(tenant.headers())
      .send({ name: "not yet", urlPattern: "https://idle.example.org/*", methods: ["GET"], maxThroughput: 300 });
    expect(created.status).toBe(200);
    const { uid } = await deployConfig(ctx, { urlPattern: `${rt.sink.url}/orgs/*`, methods: ["POST"], maxThroughput: 250 });

    const listed = await orgs();
    expect(listed.map((org) => org.id)).toEqual(expect.arrayContaining([ctx.tenant.orgId, other.tenant.orgId]));
    const idle = listed.find((org) => org.id === tenant.orgId)!.configs;
    expect(idle).toEqual([expect.objectContaining({ uid: created.body.uid, name: "not yet", state: "created", maxThroughput: 300 })]);
    expect(idle[0]).not.toHaveProperty("runtime");
    const deployed = listed.find((org) => org.id === ctx.tenant.orgId)!.configs.find((config) => config.uid === uid)!;
    expect(deployed).toMatchObject({ state: "deployed", maxThroughput: 250, runtime: { version: 1, status: "active", queued: 0 } });
  });

  it("shows a deployed config's sends per second against its limit, its queue, its oldest call and its sends in flight", async () => {
    const tenant = await ctx.app.createTenant();
    const other = { app: ctx.app, tenant };
    rt.sink.respond((arrival) => (arrival.path.startsWith("/slow/") ? { delayMs: 400 } : {}));
    const { uid } = await deployConfig(other, { urlPattern: `${rt.sink.url}/slow/*`, methods: ["POST"], maxThroughput: 200 });
    const accepted = await submitBatch(other, Array.from({ length: 1500 }, (_, i) => ({ method: "POST", url: `${rt.sink.url}/slow/${i}` })));

    const during = await until(async () => {
      const figures = await live(uid);
      return figures.queued > 0 && figures.inFlight > 0 && figures.sentPerSecond.some((n) => n > 0) ? figures : undefined;
    }, 10_000);
    expect(during).toMatchObject({ configUid: uid, version: 1, status: "active", limitPerSecond: 200, pausedUntil: null });
    expect(during.sentPerSecond).toHaveLength(300);
    expect(during.endSecond).toBeCloseTo(Date.now() / 1000, -1);
    expect(during.oldestQueuedAgeMs).toBeGreaterThan(0);
    expect(during.inFlight).toBeLessThanOrEqual(200);

    await waitForCallStates(other, accepted.map((call) => call.callId), ["succeeded"], 30_000);
    const after = await until(async () => {
      const figures = await live(uid);
      return figures.inFlight === 0 ? figures : undefined;
    }, 5000);
    expect(after.queued).toBe(0);
    expect(after.sentPerSecond.reduce((sum, n) => sum + n, 0)).toBe(1500);
    expect(Math.max(...after.sentPerSecond)).toBeLessThanOrEqual(200);
  });

  it("shows until when a config's lane is paused by a 429", async () => {
    const tenant = await ctx.app.createTenant();
    const other = { app: ctx.app, tenant };
    rt.sink.respondSequence("/paused/0", [{ status: 429, headers: { "Retry-After": "120" } }]);
    const { uid } = await deployConfig(other, { urlPattern: `${rt.sink.url}/paused/*`, methods: ["POST"], maxThroughput: 200 });
    const [call] = await submitBatch(other, [{ method: "POST", url: `${rt.sink.url}/paused/0` }]);
    const paused = await until(async () => (await live(uid)).pausedUntil ?? undefined, 10_000);
    expect(Date.parse(paused) - Date.now()).toBeGreaterThan(100_000);
    expect(Date.parse(paused) - Date.now()).toBeLessThanOrEqual(120_000);

    // Lifting the pause by hand lets the call end, so the worker can stop after this file.
    const version = await ctx.app.db.runtimeVersion.findFirstOrThrow({ where: { configUid: uid } });
    await ctx.app.redis.del(ctx.app.keys.pause(throttledLane(version.id), ""));
    await waitForCallStates(other, [call!.callId], ["succeeded"], 10_000);
    expect((await live(uid)).pausedUntil).toBeNull();
  });

  it("answers 404 in the envelope for a config with no runtime version, and for an id that is not a uid", async () => {
    for (const uid of ["00000000-0000-4000-8000-000000000000", "not-a-uid"]) {
      const res = await ctx.app.request().get(`/console/api/configs/${uid}/live`).set(admin);
      expectEnvelope(res, { status: 404, code: 14467, family: "INPUT_OUTPUT_ERROR" });
    }
  });

  it("lists recent failures with their status and error, replays one, and never shows a call's headers, bodies or query", async () => {
    const secrets = { header: "hdr-secret-4821", body: "body-secret-9377", query: "query-secret-5512", answerHeader: "answer-hdr-7730", answerBody: "answer-body-6619" };
    rt.sink.respond((arrival) =>
      arrival.path.startsWith("/broken/") ? { status: 404, headers: { "X-Leak": secrets.answerHeader }, body: `{"detail":"${secrets.answerBody}"}` } : {},
    );
    const accepted = await submitBatch(ctx, [
      { method: "POST", url: `${rt.sink.url}/broken/a?key=${secrets.query}`, headers: { "X-Api-Key": secrets.header }, body: { token: secrets.body } },
    ]);
    const callId = accepted[0]!.callId;
    await waitForCallStates(ctx, [callId], ["failed"], 10_000);
    expect(JSON.stringify(await getCall(ctx, callId))).toContain(secrets.answerBody);

    const listed = await failures(ctx.tenant.orgId);
    const shown = listed.find((call) => call.callId === callId);
    expect(shown).toMatchObject({ state: "failed", method: "POST", target: `${rt.sink.url}/broken/a`, status: 404, error: "HTTP 404", attempts: 1 });
    expect(await failures("no-such-org@AdobeOrg")).toEqual([]);

    const replayed = await ctx.app.request().post(`/console/api/orgs/${encodeURIComponent(ctx.tenant.orgId)}/calls/${callId}/replay`).set(admin);
    expect(replayed.status, replayed.text).toBe(202);
    expect(replayed.body).toMatchObject({ replayOf: callId, state: "queued" });
    const again = await getCall(ctx, replayed.body.callId as string);
    expect(again).toMatchObject({ replayOf: callId, url: `${rt.sink.url}/broken/a?key=${secrets.query}` });
    const elsewhere = await ctx.app.request().post(`/console/api/orgs/other@AdobeOrg/calls/${callId}/replay`).set(admin);
    expectEnvelope(elsewhere, { status: 404, code: "ERR_CALL_NOT_FOUND", family: "INPUT_OUTPUT_ERROR" });

    // Everything the console answered in this file: no header, body or query string of any call.
    await orgs();
    for (const answer of answers) for (const secret of Object.values(secrets)) expect(answer).not.toContain(secret);
  });
});
