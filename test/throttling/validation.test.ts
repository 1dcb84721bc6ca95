import { describe, expect, it } from "vitest";
import { ERRORS, requiredAttributeMessage } from "../../src/shared/errors/catalogue.js";
import { expectEnvelope } from "../support/envelope.js";
import { useTestApp } from "../support/test-app.js";

const ctx = useTestApp();

const VALID = { urlPattern: "https://api.example.org/data/2.5/*", methods: ["POST", "PUT"], maxThroughput: 4000 };

const required = (attribute: string) => ({ errorCode: "ERR_THROTTLING_CONFIG_100", error: requiredAttributeMessage(attribute) });
const rule = (name: keyof typeof ERRORS) => ({ errorCode: String(ERRORS[name].code), error: ERRORS[name].message });

const create = (body: unknown) =>
  ctx.app.request().post("/authoring/throttlingConfigs").set(ctx.tenant.headers()).send(body as object);

async function expectRejected(body: unknown, errors: { errorCode: string; error: string }[]) {
  const res = await create(body);
  expectEnvelope(res, { status: 400, code: errors[0]!.errorCode, family: "INPUT_OUTPUT_ERROR", message: errors[0]!.error, schema: "throttlingConfigs$prod" });
  expect(res.body.canDeploy).toEqual({
    validationStatus: "error",
    reason: `${errors.length} error(s) currently blocking the publication`,
    errors,
  });
}

describe("create validation (CONTRACT §4): every rule, every violation listed, nothing stored", () => {
  it.each([
    ["urlPattern is not a string", { ...VALID, urlPattern: 42 }],
    ["methods is not an array", { ...VALID, methods: "POST" }],
    ["methods holds an unknown method", { ...VALID, methods: ["POST", "FETCH"] }],
    ["methods holds a non-string", { ...VALID, methods: [1] }],
    ["maxThroughput is a string", { ...VALID, maxThroughput: "4000" }],
    ["name is not a string", { ...VALID, name: { nested: true } }],
    ["description is not a string", { ...VALID, description: 12 }],
  ])("106 when %s", async (_case, body) => {
    await expectRejected(body, [rule("CONFIG_INVALID_PAYLOAD")]);
  });

  it.each([
    ["urlPattern", { methods: VALID.methods, maxThroughput: 4000 }],
    ["methods", { urlPattern: VALID.urlPattern, maxThroughput: 4000 }],
    ["methods", { ...VALID, methods: [] }],
  ])("100 when %s is missing or empty", async (attribute, body) => {
    await expectRejected(body, [required(attribute)]);
  });

  it.each([
    ["missing", { urlPattern: VALID.urlPattern, methods: VALID.methods }],
    ["not an integer", { ...VALID, maxThroughput: 200.5 }],
    ["199", { ...VALID, maxThroughput: 199 }],
    ["5001", { ...VALID, maxThroughput: 5001 }],
    ["negative", { ...VALID, maxThroughput: -300 }],
  ])("101 when maxThroughput is %s", async (_case, body) => {
    await expectRejected(body, [rule("CONFIG_MAX_THROUGHPUT")]);
  });

  it.each([
    "/data/2.5/*",
    "api.example.org/data",
    "ftp://api.example.org/data",
    "https://api.example.org/data?x=1",
    "https://api.example.org/data#top",
    "https://api.example.org/da ta/*",
  ])("104 for the url pattern %j", async (urlPattern) => {
    await expectRejected({ ...VALID, urlPattern }, [rule("CONFIG_MALFORMED_URL_PATTERN")]);
  });

  it("104 for a url pattern of 2,049 characters (CONTRACT §11)", async () => {
    const urlPattern = "https://api.example.org/".padEnd(2049, "*a");
    expect(urlPattern).toHaveLength(2049);
    await expectRejected({ ...VALID, urlPattern }, [rule("CONFIG_MALFORMED_URL_PATTERN")]);
  });

  it.each(["http*://api.example.org/x", "https://*.example.org/x", "https://api.example.org:*/x"])(
    "105 for the wildcard in %j",
    async (urlPattern) => {
      await expectRejected({ ...VALID, urlPattern }, [rule("CONFIG_WILDCARD_IN_HOST")]);
    },
  );

  it("lists all three violations of a payload that breaks three rules", async () => {
    await expectRejected({ urlPattern: "https://*.example.org/x", maxThroughput: 10 }, [
      rule("CONFIG_WILDCARD_IN_HOST"),
      required("methods"),
      rule("CONFIG_MAX_THROUGHPUT"),
    ]);
  });

  it("stored nothing for any rejected payload", async () => {
    const list = await ctx.app.request().post("/authoring/list/throttlingConfigs").set(ctx.tenant.headers());
    expect(list.status).toBe(200);
    expect(list.body).toEqual({ results: [] });
    expect(await ctx.app.db.throttlingConfig.count()).toBe(0);
  });

  it("accepts a url pattern of exactly 2,048 characters", async () => {
    const urlPattern = "https://api.example.org/".padEnd(2048, "*a");
    const res = await create({ ...VALID, urlPattern });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    await ctx.app.request().delete(`/authoring/throttlingConfigs/${res.body.uid}`).set(ctx.tenant.headers()).expect(200);
  });

  it("accepts the bounds 200 and 5000, matches methods case-insensitively, stores them upper-case and de-duplicated", async () => {
    const low = await create({ ...VALID, methods: ["post", "Put", "POST", "delete"], maxThroughput: 200 });
    expect(low.status).toBe(200);
    expect(low.body.createdElement.methods).toEqual(["POST", "PUT", "DELETE"]);
    expect(low.body.createdElement.maxThroughput).toBe(200);
    const high = await ctx.app
      .request()
      .put(`/authoring/throttlingConfigs/${low.body.uid}`)
      .set(ctx.tenant.headers())
      .send({ ...VALID, maxThroughput: 5000 });
    expect(high.status).toBe(200);
    expect(high.body.updatedElement.maxThroughput).toBe(5000);
    await ctx.app.db.throttlingConfig.deleteMany();
  });

  it("ignores unknown and server-owned fields", async () => {
    const res = await create({
      ...VALID,
      uid: "00000000-0000-0000-0000-000000000000",
      state: "deployed",
      orgId: "someone-else",
      metadata: { createdBy: "mallory" },
      hasBeenDeployed: true,
      colour: "blue",
    });
    expect(res.status).toBe(200);
    const element = res.body.createdElement;
    expect(element.uid).not.toBe("00000000-0000-0000-0000-000000000000");
    expect(element.state).toBe("created");
    expect(element.orgId).toBe(ctx.tenant.orgId);
    expect(element.hasBeenDeployed).toBe(false);
    expect(element.metadata.createdBy).toBe(ctx.tenant.credentialName);
    expect(element).not.toHaveProperty("colour");
    await ctx.app.db.throttlingConfig.deleteMany();
  });
});

describe("update validation", () => {
  it("rejects an invalid update with every violation and leaves the stored config unchanged", async () => {
    const created = await create({ ...VALID, name: "before" });
    expect(created.status).toBe(200);
    const res = await ctx.app
      .request()
      .put(`/authoring/throttlingConfigs/${created.body.uid}`)
      .set(ctx.tenant.headers())
      .send({ name: "after", urlPattern: "nope", methods: ["GET"], maxThroughput: 6000 });
    expectEnvelope(res, { status: 400, code: "ERR_THROTTLING_CONFIG_104", family: "INPUT_OUTPUT_ERROR", schema: "throttlingConfigs$prod" });
    expect(res.body.canDeploy.errors).toEqual([rule("CONFIG_MALFORMED_URL_PATTERN"), rule("CONFIG_MAX_THROUGHPUT")]);
    const stored = await ctx.app.db.throttlingConfig.findUniqueOrThrow({ where: { uid: created.body.uid } });
    expect(stored).toMatchObject({ name: "before", urlPattern: VALID.urlPattern, maxThroughput: 4000, state: "created" });
  });
});
