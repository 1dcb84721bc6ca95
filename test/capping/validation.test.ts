import { beforeEach, describe, expect, it } from "vitest";
import { expectEnvelope } from "../support/envelope.js";
import { expectMatchesSpec } from "../support/openapi.js";
import { useTestApp } from "../support/test-app.js";
import { cappingApi, ENDPOINT_CONFIG } from "../support/capping-api.js";

// CONTRACT §12, "Validation, as Adobe does it": a payload of the wrong structure is refused and nothing is stored;
// anything else is stored, and canDeploy lists every problem. Codes and messages are Adobe's.

const ctx = useTestApp();
const api = cappingApi(ctx);
beforeEach(() => ctx.app.db.cappingConfig.deleteMany());

const issue = (errorCode: string, error: string) => ({ errorCode, error });
const ISSUES = {
  100: issue("ERR_ENDPOINTCONFIG_100", "capping config: missing or invalid url"),
  101: issue("ERR_ENDPOINTCONFIG_101", "capping config: malformed url"),
  102: issue("ERR_ENDPOINTCONFIG_102", "capping config: malformed url: wildchar in url not allowed in host:port"),
  103: issue("ERR_ENDPOINTCONFIG_103", "capping config: missing HTTP methods"),
  104: issue("ERR_ENDPOINTCONFIG_104", "capping config: no call rating defined"),
  107: issue("ERR_ENDPOINTCONFIG_107", "capping config: invalid max calls count (maxCallsCount)"),
  108: issue("ERR_ENDPOINTCONFIG_108", "capping config: invalid max calls count (periodInMs)"),
};
const serviceName = (name: string) => issue("ERR_AUTHORING_ENDPOINTCONFIG_1", `invalid service name '${name}': must be 'dataSource' or 'action'`);
const noMaxConnections = (service: string, url: string) => ({
  warningCode: "ERR_ENDPOINTCONFIG_106",
  warning: "capping config: max HTTP connections not defined: no limitation by default",
  scope: { endpointConfigService: service, endpointConfigUrl: url },
});
const NO_WORKER = { warningCode: "RUNTIME_NO_WORKER", warning: expect.stringContaining("no runtime worker is alive") };
const blocking = (errors: object[]) => ({ validationStatus: "error", reason: `${errors.length} error(s) currently blocking the publication`, errors });

const RATING = { maxCallsCount: 20, periodInMs: 2000 };
const withService = (service: object) => ({ ...ENDPOINT_CONFIG, services: { action: { maxHttpConnections: 5, ...service } } });

const NOT_JSON = { code: "ERR_ENDPOINTCONFIG_112", message: "capping config: can't create endpoint config: expecting a JSON payload" };
const INVALID = { code: "ERR_ENDPOINTCONFIG_111", message: "capping config: can't create endpoint config: invalid payload" };

/** A 400 of `rule`, with canDeploy naming it, and nothing stored. */
async function expectRefused(res: Awaited<ReturnType<typeof api.create>>, rule: typeof NOT_JSON) {
  expectEnvelope(res, { status: 400, family: "INPUT_OUTPUT_ERROR", schema: "throttlingConfigs$prod", ...rule });
  expect(res.body.canDeploy).toEqual(blocking([issue(rule.code, rule.message)]));
  expect(await ctx.app.db.cappingConfig.count()).toBe(0);
}

describe("a payload of the wrong structure is refused, nothing stored", () => {
  it("112 when the body is not JSON, on both base paths", async () => {
    for (const base of ["/authoring", "/journey/orchestration"]) {
      const res = await ctx.app
        .request()
        .post(`${base}/endpointConfigs`)
        .set(ctx.tenant.headers())
        .set("Content-Type", "application/json")
        .send('{"url": "https://api.example.org/x", ');
      await expectRefused(res, NOT_JSON);
      expectMatchesSpec(res, "POST", "/endpointConfigs");
    }
  });

  it.each([
    ["an array", [ENDPOINT_CONFIG]],
    ["a string", "url"],
    ["a number", 42],
    ["null", null],
  ])("112 when the body is %s", async (_case, body) => {
    const res = await ctx.app.request().post("/authoring/endpointConfigs").set(ctx.tenant.headers()).set("Content-Type", "application/json").send(JSON.stringify(body));
    await expectRefused(res, NOT_JSON);
  });

  it("112 when there is no body at all", async () => {
    await expectRefused(await ctx.app.request().post("/authoring/endpointConfigs").set(ctx.tenant.headers()), NOT_JSON);
  });

  it.each([
    ["url is a number", { ...ENDPOINT_CONFIG, url: 42 }],
    ["methods is a string", { ...ENDPOINT_CONFIG, methods: "GET" }],
    ["methods holds an unknown method (Adobe's OPTION)", { ...ENDPOINT_CONFIG, methods: ["GET", "OPTION"] }],
    ["methods holds a number", { ...ENDPOINT_CONFIG, methods: [1] }],
    ["services is an array", { ...ENDPOINT_CONFIG, services: [{ rating: RATING }] }],
    ["services is a string", { ...ENDPOINT_CONFIG, services: "action" }],
    ["a service is a number", { ...ENDPOINT_CONFIG, services: { action: 5 } }],
    ["rating is a string", withService({ rating: "20 per 2 s" })],
    ["maxCallsCount is a string", withService({ rating: { ...RATING, maxCallsCount: "20" } })],
    ["periodInMs is a boolean", withService({ rating: { ...RATING, periodInMs: true } })],
    ["maxHttpConnections is 0", withService({ rating: RATING, maxHttpConnections: 0 })],
    ["maxHttpConnections is 401", withService({ rating: RATING, maxHttpConnections: 401 })],
    ["maxHttpConnections is 2.5", withService({ rating: RATING, maxHttpConnections: 2.5 })],
    ["maxHttpConnections is a string", withService({ rating: RATING, maxHttpConnections: "5" })],
  ])("111 when %s", async (_case, body) => {
    await expectRefused(await api.create(body), INVALID);
  });

  it("111 on both base paths, for an update too, which then changes nothing", async () => {
    const created = await api.create(ENDPOINT_CONFIG);
    const uid = created.body.uid as string;
    for (const base of ["/authoring", "/journey/orchestration"]) {
      const res = await cappingApi(ctx, base).update(uid, { ...ENDPOINT_CONFIG, url: "https://other.example.org/x", methods: ["FETCH"] });
      expectEnvelope(res, { status: 400, family: "INPUT_OUTPUT_ERROR", ...INVALID });
      expect(res.body.canDeploy).toEqual(blocking([issue(INVALID.code, INVALID.message)]));
      expectMatchesSpec(res, "PUT", "/endpointConfigs/{uid}");
    }
    expect(await ctx.app.db.cappingConfig.findUniqueOrThrow({ where: { uid } })).toMatchObject({ url: ENDPOINT_CONFIG.url, state: "created" });
  });
});

describe("anything else is stored, and canDeploy lists every problem", () => {
  /** Creates `body` (200, stored) and returns canDeploy from the create and from canDeploy, which must agree. */
  async function storedReport(body: unknown) {
    const res = await api.create(body);
    expect(res.status, res.text).toBe(200);
    expectMatchesSpec(res, "POST", "/endpointConfigs");
    const again = await api.canDeploy(res.body.uid as string, "post");
    expect(again.body.canDeploy).toEqual(res.body.canDeploy);
    return res.body.canDeploy as { errors?: object[]; warnings?: object[] };
  }

  /** `body`'s canDeploy reports exactly `errors` (and no other warning than the missing worker). */
  async function expectReported(body: unknown, errors: object[]) {
    expect(await storedReport(body)).toEqual({ ...blocking(errors), warnings: [NO_WORKER] });
  }

  it.each([
    ["missing", { methods: ["GET"], services: ENDPOINT_CONFIG.services }],
    ["empty", { ...ENDPOINT_CONFIG, url: "" }],
    ["null", { ...ENDPOINT_CONFIG, url: null }],
  ])("100 when the url is %s (stored as \"\")", async (_case, body) => {
    await expectReported(body, [ISSUES[100]]);
    expect((await ctx.app.db.cappingConfig.findFirstOrThrow()).url).toBe("");
  });

  it.each([
    "/data/2.5/*",
    "api.example.org/data",
    "ftp://api.example.org/data",
    "https://api.example.org/data?units=metric",
    "https://api.example.org/data#top",
    "https://api.example.org/da ta/*",
    "https://user:secret@api.example.org/data",
    "https://api.example.org/".padEnd(2049, "*a"),
  ])("101 for the url %j", async (url) => {
    await expectReported({ ...ENDPOINT_CONFIG, url }, [ISSUES[101]]);
  });

  it.each(["http*://api.example.org/x", "https://*.example.org/x", "https://api.example.org:8*/x", "https://api.example*.org:8*0/data/2.5/weather"])(
    "102 for the wildcard in %j",
    async (url) => {
      await expectReported({ ...ENDPOINT_CONFIG, url }, [ISSUES[102]]);
    },
  );

  it.each([
    ["missing", { url: ENDPOINT_CONFIG.url, services: ENDPOINT_CONFIG.services }],
    ["empty", { ...ENDPOINT_CONFIG, methods: [] }],
  ])("103 when methods are %s", async (_case, body) => {
    await expectReported(body, [ISSUES[103]]);
  });

  it.each([
    ["services are missing", { url: ENDPOINT_CONFIG.url, methods: ["GET"] }],
    ["services are empty", { ...ENDPOINT_CONFIG, services: {} }],
    ["the service has no rating", withService({})],
    ["the rating is null", withService({ rating: null })],
  ])("104 when %s", async (_case, body) => {
    await expectReported(body, [ISSUES[104]]);
  });

  it("104 once when one service of two has no rating", async () => {
    const body = { ...ENDPOINT_CONFIG, services: { ...ENDPOINT_CONFIG.services, dataSource: { maxHttpConnections: 1 } } };
    await expectReported(body, [ISSUES[104]]);
  });

  it.each([
    ["missing", { periodInMs: 1000 }],
    ["0", { maxCallsCount: 0, periodInMs: 1000 }],
    ["negative", { maxCallsCount: -5, periodInMs: 1000 }],
    ["not an integer", { maxCallsCount: 2.5, periodInMs: 1000 }],
    ["beyond the integers a number holds exactly", { maxCallsCount: 2 ** 53, periodInMs: 1000 }],
  ])("107 when maxCallsCount is %s", async (_case, rating) => {
    await expectReported(withService({ rating }), [ISSUES[107]]);
  });

  it.each([
    ["missing", { maxCallsCount: 10 }],
    ["0", { maxCallsCount: 10, periodInMs: 0 }],
    ["over 24 h", { maxCallsCount: 10, periodInMs: 86_400_001 }],
    ["not an integer", { maxCallsCount: 10, periodInMs: 1.5 }],
  ])("108 when periodInMs is %s", async (_case, rating) => {
    await expectReported(withService({ rating }), [ISSUES[108]]);
  });

  it("ERR_AUTHORING_ENDPOINTCONFIG_1 names a service that is neither action nor dataSource", async () => {
    await expectReported({ ...ENDPOINT_CONFIG, services: { Action: ENDPOINT_CONFIG.services.action } }, [serviceName("Action")]);
  });

  it("warns (106) for each service without maxHttpConnections, scoped to it, without blocking", async () => {
    const url = "https://api.example.org/weather";
    const body = { url, methods: ["GET"], services: { action: { rating: RATING }, dataSource: { maxHttpConnections: null, rating: RATING } } };
    expect(await storedReport(body)).toEqual({
      validationStatus: "ok",
      warnings: [noMaxConnections("action", url), noMaxConnections("dataSource", url), NO_WORKER],
    });
  });

  it("lists every problem of a config at once: url, methods, each service's, and the warnings", async () => {
    const url = "https://*.example.org/data/*";
    const body = {
      url,
      methods: [],
      services: { email: { rating: RATING }, action: { rating: { maxCallsCount: 0 } }, dataSource: { maxHttpConnections: 3 } },
    };
    expect(await storedReport(body)).toEqual({
      ...blocking([ISSUES[102], ISSUES[103], serviceName("email"), ISSUES[107], ISSUES[108], ISSUES[104]]),
      warnings: [noMaxConnections("email", url), noMaxConnections("action", url), NO_WORKER],
    });
    const stored = await ctx.app.db.cappingConfig.findFirstOrThrow();
    expect(stored).toMatchObject({ url, methods: [], services: body.services, state: "created" });
  });

  it("answers an update the same way: stored, every problem listed", async () => {
    const uid = (await api.create(ENDPOINT_CONFIG)).body.uid as string;
    const res = await api.update(uid, { ...ENDPOINT_CONFIG, url: "", methods: null });
    expect(res.status).toBe(200);
    expect(res.body.canDeploy).toEqual({ ...blocking([ISSUES[100], ISSUES[103]]), warnings: [NO_WORKER] });
    expect(res.body.updatedElement).toMatchObject({ url: "", methods: [], state: "updated" });
  });
});

describe("what is stored", () => {
  it("matches methods case-insensitively, stores them upper-case and de-duplicated", async () => {
    const res = await api.create({ ...ENDPOINT_CONFIG, methods: ["get", "Post", "GET", "delete"] });
    expect(res.body.createdElement.methods).toEqual(["GET", "POST", "DELETE"]);
  });

  it("accepts the bounds: maxHttpConnections 1 and 400, maxCallsCount 1, periodInMs 1 and 86,400,000, a url of 2,048 characters", async () => {
    const url = "https://api.example.org/".padEnd(2048, "*a");
    const services = {
      action: { maxHttpConnections: 1, rating: { maxCallsCount: 1, periodInMs: 1 } },
      dataSource: { maxHttpConnections: 400, rating: { maxCallsCount: 1, periodInMs: 86_400_000 } },
    };
    const res = await api.create({ url, methods: ["PATCH"], services });
    expect(res.status).toBe(200);
    expect(res.body.canDeploy).toEqual({ validationStatus: "ok", warnings: [NO_WORKER] });
    expect(res.body.createdElement).toMatchObject({ url, services });
  });

  it("ignores orgId, unknown fields, server-owned fields and unknown fields inside services; null is absent", async () => {
    const res = await api.create({
      ...ENDPOINT_CONFIG,
      orgId: "someone-else@AdobeOrg",
      uid: "00000000-0000-0000-0000-000000000000",
      state: "deployed",
      hasBeenDeployed: true,
      metadata: { createdBy: "mallory" },
      colour: "blue",
      services: { action: { maxHttpConnections: 5, rating: { ...RATING, burst: 3, periodInMs: 2000 }, priority: "high" } },
    });
    expect(res.status).toBe(200);
    const element = res.body.createdElement;
    expect(element.uid).not.toBe("00000000-0000-0000-0000-000000000000");
    expect(element).toMatchObject({ orgId: ctx.tenant.orgId, state: "created", hasBeenDeployed: false, metadata: { createdBy: ctx.tenant.credentialName } });
    expect(element).not.toHaveProperty("colour");
    expect(element.services).toEqual(ENDPOINT_CONFIG.services);
  });
});
