import { beforeAll, describe, expect, it } from "vitest";
import type { Response } from "supertest";
import { expectEnvelope, type ExpectedEnvelope } from "../support/envelope.js";
import { useTestApp, type Tenant } from "../support/test-app.js";

// CONTRACT §1 (transport) and §4 (a body that is not a JSON object is ERR_THROTTLING_CONFIG_106).

const VALID = { urlPattern: "https://api.example.org/data/*", methods: ["POST"], maxThroughput: 1000 };
const VALID_JSON = JSON.stringify(VALID);
const HUGE_JSON = JSON.stringify({ ...VALID, description: "x".repeat(2 * 1024 * 1024) });
const INVALID_PAYLOAD = {
  status: 400,
  code: "ERR_THROTTLING_CONFIG_106",
  family: "INPUT_OUTPUT_ERROR",
  message: "throttling config: invalid payload",
  schema: "throttlingConfigs$prod",
};
const INVALID_PAYLOAD_REPORT = {
  validationStatus: "error",
  reason: "1 error(s) currently blocking the publication",
  errors: [{ errorCode: "ERR_THROTTLING_CONFIG_106", error: "throttling config: invalid payload" }],
};
const PAYLOAD_TOO_LARGE = {
  status: 413,
  code: "ERR_PAYLOAD_TOO_LARGE",
  family: "INPUT_OUTPUT_ERROR",
  message: "request body exceeds the 1 MB limit",
};
const UNSUPPORTED_MEDIA_TYPE = {
  status: 415,
  code: "ERR_UNSUPPORTED_MEDIA_TYPE",
  family: "INPUT_OUTPUT_ERROR",
  message: "a request body must be sent with Content-Type: application/json (charset utf-8)",
};

const ctx = useTestApp();

/** A create request for `owner` (default: the shared ctx.tenant), with `body` sent verbatim as `contentType`. */
const createRaw = (body: string, contentType = "application/json", owner = ctx.tenant) =>
  ctx.app.request().post("/authoring/throttlingConfigs").set(owner.headers()).set("Content-Type", contentType).send(body);

/** The envelope, and nothing stored for the shared ctx.tenant. */
async function expectRejected(res: Response, expected: ExpectedEnvelope) {
  expectEnvelope(res, expected);
  expect(await ctx.app.db.throttlingConfig.count({ where: { orgId: ctx.tenant.orgId } })).toBe(0);
}

describe("request bodies on create", () => {
  it("answers malformed JSON with 106 and a canDeploy report", async () => {
    const res = await createRaw('{"urlPattern": "https://api.example.org/*", "methods": [');
    await expectRejected(res, INVALID_PAYLOAD);
    expect(res.body.canDeploy).toEqual(INVALID_PAYLOAD_REPORT);
  });

  it.each([
    ["without a Content-Type", () => ctx.app.request().post("/authoring/throttlingConfigs").set(ctx.tenant.headers())],
    ["with Content-Type: application/json", () => createRaw("")],
  ])("answers an empty body %s with 106", async (_label, request) => {
    const res = await request();
    await expectRejected(res, INVALID_PAYLOAD);
    expect(res.body.canDeploy).toEqual(INVALID_PAYLOAD_REPORT);
  });

  it.each([["null"], ["[]"], ['"a string"'], ["42"]])("answers the JSON value %s with 106", async (body) => {
    const res = await createRaw(body);
    await expectRejected(res, INVALID_PAYLOAD);
    expect(res.body.canDeploy).toEqual(INVALID_PAYLOAD_REPORT);
  });

  it.each([
    ["a JSON-looking text/plain body", VALID_JSON, "text/plain"],
    ["a non-UTF charset", VALID_JSON, "application/json; charset=latin1"],
    ["a 2 MB text/plain body", HUGE_JSON, "text/plain"],
    ["a 2 MB non-UTF body", HUGE_JSON, "application/json; charset=latin1"],
  ])("answers %s with 415", async (_label, body, contentType) => {
    await expectRejected(await createRaw(body, contentType), UNSUPPORTED_MEDIA_TYPE);
  });

  it("answers a 2 MB body with 413 rather than dropping the connection", async () => {
    await expectRejected(await createRaw(HUGE_JSON), PAYLOAD_TOO_LARGE);
  });

  it("answers a 2 MB chunked body (no Content-Length) with 413", async () => {
    const request = ctx.app.request().post("/authoring/throttlingConfigs").set(ctx.tenant.headers()).type("application/json");
    const chunk = 64 * 1024;
    for (let offset = 0; offset < HUGE_JSON.length; offset += chunk) request.write(HUGE_JSON.slice(offset, offset + chunk));
    await expectRejected(await request, PAYLOAD_TOO_LARGE);
  });

  it("accepts application/json;charset=utf-8", async () => {
    const res = await createRaw(VALID_JSON, "application/json;charset=utf-8", await ctx.app.createTenant());
    expect(res.status, res.text).toBe(200);
    expect(res.body.resStatus).toBe("created");
  });
});

describe("routing", () => {
  let owner: Tenant;
  beforeAll(async () => {
    owner = await ctx.app.createTenant();
    expect((await createRaw(VALID_JSON, "application/json", owner)).status).toBe(200);
  });

  it("answers an unknown route with a 404 envelope", async () => {
    const notFound = { status: 404, code: "ERR_ROUTE_NOT_FOUND", family: "INPUT_OUTPUT_ERROR", message: "no such route" };
    expectEnvelope(await ctx.app.request().get("/nope"), notFound);
    expectEnvelope(await ctx.app.request().post("/authoring/nope").set(ctx.tenant.headers()), notFound);
  });

  it("collapses repeated slashes", async () => {
    const res = await ctx.app.request().post("//authoring//list/throttlingConfigs").set(owner.headers());
    expect(res.status, res.text).toBe(200);
    expect(res.body.results).toEqual([expect.objectContaining({ orgId: owner.orgId })]);
  });

  it.each([["/authoring"], ["/journey/orchestration"]])("serves the API under %s", async (base) => {
    const res = await ctx.app.request().post(`${base}/list/throttlingConfigs`).set(owner.headers());
    expect(res.status, res.text).toBe(200);
    expect(res.body.results).toEqual([expect.objectContaining({ orgId: owner.orgId, urlPattern: VALID.urlPattern })]);
  });
});
