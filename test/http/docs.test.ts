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
  it("GET /docs serves the reference page, allowed to load only from this origin, and the Swagger UI assets it names", async () => {
    const page = await app.request().get("/docs");
    expect(page.status).toBe(200);
    expect(page.get("content-type")).toMatch(/^text\/html/);
    expect(page.get("content-security-policy")).toContain("default-src 'self'");
    expectMatchesSpec(page, "GET", "/docs");
    const assets = [...page.text.matchAll(/(?:src|href)="(\/docs\/[^"]+)"/g)].map((match) => match[1]!);
    expect(assets).toEqual(expect.arrayContaining(["/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css", "/docs/assets/reference.js"]));
    for (const asset of assets) expect((await app.request().get(asset)).status, asset).toBe(200);
    expect((await app.request().get("/docs/assets/reference.js")).text).toContain('url: "/docs/openapi.json"');
  });

  it("serves none of the package's other files", async () => {
    for (const path of ["/docs/assets/package.json", "/docs/assets/index.html", "/docs/assets/swagger-initializer.js"]) {
      expect((await app.request().get(path)).status, path).toBe(404);
    }
  });

  it("GET /docs/openapi.yaml serves openapi.yaml as YAML, without credentials", async () => {
    const path = "/docs/openapi.yaml";
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
