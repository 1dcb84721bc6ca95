import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cappingApi, ENDPOINT_CONFIG } from "../support/capping-api.js";
import { describeFailures, runCollection } from "../support/newman.js";
import { startTestApp, type Tenant, type TestApp } from "../support/test-app.js";

// Adobe's own Postman collection for the Capping API (CONTRACT §12), run under newman from the file as Adobe
// publishes it: a byte-for-byte copy of ../shared/external/adobe/ (whose README gives its source and git blob), kept
// in the repository so that a clean clone runs it. Only `{uid}` is filled in, in memory.

const FILE = new URL("adobe/Journey-Orchestration_Capping-API_postman-collection.json", import.meta.url);
/** The file's git blob in AdobeDocs/JourneyAPI (postman-collections/, commit 48c1bac). */
const ADOBE_BLOB = "884242b41e52ec81f8383d5fd622ab4de4bdb023";
const raw = readFileSync(FILE);

/** The collection with `{uid}` (a path segment Adobe leaves for the user to fill in) replaced by `uid`. */
const collectionFor = (uid: string): object => JSON.parse(raw.toString("utf8").replaceAll("{uid}", uid)) as object;

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app?.close());

/** Runs the whole collection for `tenant` against `uid` and answers each request's name and status, in order. */
async function run(tenant: Tenant, basePath: string, uid: string) {
  const values = { JO_HOST: app.url, BASE_PATH: basePath, ACCESS_TOKEN: tenant.token, API_KEY: tenant.clientId, IMS_ORG: tenant.orgId, SANDBOX_NAME: "prod" };
  const { summary } = await runCollection(
    collectionFor(uid),
    Object.entries(values).map(([key, value]) => ({ key, value })),
  );
  expect(describeFailures(summary)).toBe("");
  return summary.run.executions.map((execution) => [execution.item.name, execution.response?.code]);
}

const REQUESTS = [
  "List the endpoint capping configurations",
  "Get an endpoint capping configuration",
  "Create an endpoint capping configuration",
  "Update an endpoint capping configuration",
  "Check if an endpoint capping configuration can be deployed",
  "Delete an endpoint capping configuration",
  "Delete an endpoint capping configuration - With forceDelete",
  "Deploy an endpoint capping configuration",
  "Undeploy an endpoint capping configuration",
];
const answered = (statuses: number[]) => REQUESTS.map((name, i) => [name, statuses[i]]);

describe("Adobe's Capping API Postman collection", () => {
  it("is Adobe's file as it is", () => {
    const blob = createHash("sha1").update(`blob ${raw.length}\0`).update(raw).digest("hex");
    expect(blob).toBe(ADOBE_BLOB);
  });

  it.each(["/authoring", "/journey/orchestration"])("runs top to bottom against a created config with BASE_PATH=%s", async (basePath) => {
    const tenant = await app.createTenant();
    const uid = (await cappingApi({ app, tenant }).create(ENDPOINT_CONFIG)).body.uid as string;

    // Its create and update send no url and no method: both are stored, with canDeploy errors. The delete removes
    // the config, so the forced delete, the deploy and the undeploy find nothing.
    expect(await run(tenant, basePath, uid)).toEqual(answered([200, 200, 200, 200, 200, 200, 404, 404, 404]));

    const stored = await app.db.cappingConfig.findMany({ where: { orgId: tenant.orgId } });
    expect(stored).toEqual([expect.objectContaining({ url: "", methods: [], state: "created", services: { dataSource: { maxHttpConnections: 1, rating: { maxCallsCount: 1, periodInMs: 1 } } } })]);
    expect((await cappingApi({ app, tenant }).canDeploy(stored[0]!.uid)).body.canDeploy.errors).toEqual([
      { errorCode: "ERR_ENDPOINTCONFIG_100", error: "capping config: missing or invalid url" },
      { errorCode: "ERR_ENDPOINTCONFIG_103", error: "capping config: missing HTTP methods" },
    ]);
  });

  it("runs top to bottom against a deployed config: its plain delete is refused (1451), the forced one deletes it", async () => {
    const tenant = await app.createTenant();
    const api = cappingApi({ app, tenant });
    const uid = (await api.create(ENDPOINT_CONFIG)).body.uid as string;
    expect((await api.deploy(uid)).status).toBe(204);

    expect(await run(tenant, "/authoring", uid)).toEqual(answered([200, 200, 200, 200, 200, 400, 200, 404, 404]));

    expect(await app.db.cappingConfig.count({ where: { uid } })).toBe(0);
    expect(await app.db.cappingRuntime.findFirst({ where: { orgId: tenant.orgId } })).toMatchObject({ status: "draining", configUid: null });
  });
});
