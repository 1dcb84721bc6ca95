import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/test-app.js";
import { runCliScript } from "./cli-process.js";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

/** Runs dev:seed as a developer would (readable output) and extracts the curl command it printed. */
async function seed() {
  const port = new URL(app.url).port;
  const run = await runCliScript("dev-seed", [], { DATABASE_URL: app.database.url, PORT: port });
  expect(run.code).toBe(0);
  expect(run.stderr).toBe("");
  const curl = run.stdout.slice(run.stdout.indexOf("curl "));
  const [, method, url] = /^curl -X (\w+) '([^']+)'/.exec(curl) ?? [];
  const headers = Object.fromEntries([...curl.matchAll(/-H '([^:']+): ([^']*)'/g)].map(([, name, value]) => [name!, value!]));
  return { method: method!, url: new URL(url!), headers };
}

describe("dev:seed", () => {
  it("prints a curl command whose headers list the demo org's configs", async () => {
    const printed = await seed();
    expect(printed.method).toBe("POST");
    expect(printed.url.port).toBe(new URL(app.url).port);
    expect(printed.url.pathname).toBe("/authoring/list/throttlingConfigs");
    expect(Object.keys(printed.headers)).toEqual(["Authorization", "x-api-key", "x-gw-ims-org-id", "x-sandbox-name"]);
    expect(printed.headers).toMatchObject({ "x-gw-ims-org-id": "DEMO@AdobeOrg", "x-sandbox-name": "prod" });

    // The app listens on 127.0.0.1; the printed "localhost" may resolve to ::1 first.
    const response = await app.request().post(printed.url.pathname).set(printed.headers);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ results: [] });
  });

  it("reuses the org and sandboxes on a second run and issues a new working credential", async () => {
    const first = await seed();
    const second = await seed();
    expect(second.headers["x-api-key"]).not.toBe(first.headers["x-api-key"]);

    expect(await app.db.org.count({ where: { id: "DEMO@AdobeOrg" } })).toBe(1);
    const sandboxes = await app.db.sandbox.findMany({ where: { orgId: "DEMO@AdobeOrg" }, orderBy: { name: "asc" } });
    expect(sandboxes.map(({ name, type }) => ({ name, type }))).toEqual([
      { name: "dev", type: "development" },
      { name: "prod", type: "production" },
    ]);
    for (const { headers } of [first, second]) {
      expect((await app.request().post("/authoring/list/throttlingConfigs").set(headers)).status).toBe(200);
    }
  });
});
