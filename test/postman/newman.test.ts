import { readFileSync } from "node:fs";
import newman, { type NewmanRunSummary } from "newman";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/test-app.js";

interface CollectionItem {
  name: string;
  request?: unknown;
  item?: CollectionItem[];
}
interface EnvironmentValue {
  key: string;
  value: string;
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(new URL(`../../postman/${file}`, import.meta.url), "utf8")) as T;
const collection = readJson<CollectionItem & { item: CollectionItem[] }>("sluice-throttling.postman_collection.json");
const environment = readJson<{ values: EnvironmentValue[] }>("sluice.postman_environment.json");

/** The collection's requests, depth first, as "folder / request". */
function requestPaths(items: CollectionItem[], prefix = ""): string[] {
  return items.flatMap((item) =>
    item.request ? [`${prefix}${item.name}`] : requestPaths(item.item ?? [], `${prefix}${item.name} / `),
  );
}

function runCollection(values: EnvironmentValue[]): Promise<NewmanRunSummary> {
  return new Promise((resolve, reject) => {
    newman.run({ collection, environment: { values }, timeoutRequest: 10_000 }, (error, summary) =>
      error ? reject(error) : resolve(summary),
    );
  });
}

const describeFailures = (summary: NewmanRunSummary) =>
  summary.run.failures.map((failure) => `${failure.source?.name ?? "?"}: ${failure.error.test ?? ""} ${failure.error.message}`).join("\n");

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

describe("Postman collection", () => {
  const expectedRequests = requestPaths(collection.item);

  it("holds the seed's five use cases, each with the seed's ordered request list", () => {
    expect(collection.item.map((folder) => folder.name.split(" ")[0])).toEqual(["UC1", "UC2", "UC3", "UC4", "UC5"]);
    expect(expectedRequests.map((path) => path.replace(/^(UC\d) .* \/ /, "$1 "))).toEqual([
      "UC1 list", "UC1 create", "UC1 candeploy", "UC1 deploy",
      "UC2 list", "UC2 get", "UC2 update", "UC2 candeploy", "UC2 deploy",
      "UC3 list", "UC3 undeploy", "UC3 delete",
      "UC4 list", "UC4 delete with forceDelete",
      "UC5 list", "UC5 get", "UC5 update",
    ]);
  });

  it("ships an environment template with the six variables the collection uses", () => {
    expect(environment.values.map((v) => v.key).sort()).toEqual(
      ["ACCESS_TOKEN", "API_KEY", "BASE_PATH", "IMS_ORG", "JO_HOST", "SANDBOX_NAME"],
    );
  });

  it.each(["/authoring", "/journey/orchestration"])("passes top to bottom against a fresh org with BASE_PATH=%s", async (basePath) => {
    const tenant = await app.createTenant();
    const overrides: Record<string, string> = {
      JO_HOST: app.url,
      BASE_PATH: basePath,
      SANDBOX_NAME: tenant.prodSandbox.name,
      ACCESS_TOKEN: tenant.token,
      API_KEY: tenant.clientId,
      IMS_ORG: tenant.orgId,
    };
    const summary = await runCollection(environment.values.map(({ key }) => ({ key, value: overrides[key] ?? "" })));

    // Compared as text so a failure reads as "request: test message" rather than a dump of newman objects.
    expect(describeFailures(summary)).toBe("");
    expect(summary.run.executions.map((execution) => execution.item.name)).toEqual(
      expectedRequests.map((path) => path.split(" / ").at(-1)),
    );
    expect(summary.run.stats.requests.total).toBe(expectedRequests.length);
    expect(summary.run.stats.assertions.total).toBeGreaterThanOrEqual(expectedRequests.length);
    expect(summary.run.stats.assertions.failed).toBe(0);
  });
});
