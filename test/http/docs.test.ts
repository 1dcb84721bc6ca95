import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { OPENAPI_PATH } from "../../src/http/docs.js";
import { expectMatchesSpec } from "../support/openapi.js";
import { startTestApp, type TestApp } from "../support/test-app.js";

const checkedIn = readFileSync(OPENAPI_PATH, "utf8");

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

describe("/docs", () => {
  it.each(["/docs", "/docs/openapi.yaml"])("GET %s serves openapi.yaml as YAML, without credentials", async (path) => {
    const response = await app.request().get(path).buffer(true).parse((res, done) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => done(null, text));
    });
    expect(response.status).toBe(200);
    expect(response.get("content-type")).toMatch(/^application\/yaml/);
    expect(response.body).toBe(checkedIn);
    expectMatchesSpec(response, "GET", path);
  });

  it("GET /docs/openapi.json serves the same document as JSON", async () => {
    const response = await app.request().get("/docs/openapi.json");
    expect(response.status).toBe(200);
    expect(response.body).toEqual(parse(checkedIn));
    expect(response.body).toMatchObject({ openapi: "3.1.0", paths: { "/throttlingConfigs/{uid}": {} } });
    expectMatchesSpec(response, "GET", "/docs/openapi.json");
  });
});
