import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runtimeKeys } from "../../src/runtime/keys.js";
import { describeFailures, runCollection, type EnvironmentValue } from "../support/newman.js";
import { startSink, type Sink } from "../support/sink.js";
import { egressAllowFor } from "../support/egress-allow.js";
import { startTestApp, type Tenant, type TestApp } from "../support/test-app.js";
import { waitFor } from "../support/timing.js";
import { startWorkerProcess, type WorkerProcess } from "../support/worker-process.js";

interface CollectionItem {
  name: string;
  request?: unknown;
  item?: CollectionItem[];
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(new URL(`../../postman/${file}`, import.meta.url), "utf8")) as T;
const collection = readJson<{ item: CollectionItem[]; variable: { key: string }[] }>("sluice-throttling.postman_collection.json");
const environment = readJson<{ values: EnvironmentValue[] }>("sluice.postman_environment.json");

/** The collection's requests, depth first, as "folder / request". */
function requestPaths(items: CollectionItem[], prefix = ""): string[] {
  return items.flatMap((item) =>
    item.request ? [`${prefix}${item.name}`] : requestPaths(item.item ?? [], `${prefix}${item.name} / `),
  );
}

let app: TestApp;
let sink: Sink;
let worker: WorkerProcess;
beforeAll(async () => {
  sink = await startSink();
  app = await startTestApp(egressAllowFor(sink.url));
  // A real worker sends what the "Runtime calls" folder submits to the sink standing in for TARGET_URL.
  worker = await startWorkerProcess(app);
});
afterAll(async () => {
  await worker?.stop();
  await sink?.close();
  await app?.close();
});

describe("Postman collection", () => {
  const expectedRequests = requestPaths(collection.item);

  it("holds the seed's five use cases, each with the seed's ordered request list, then capping, runtime and failed calls", () => {
    expect(collection.item.map((folder) => folder.name.split(" ")[0])).toEqual(["UC1", "UC2", "UC3", "UC4", "UC5", "Capping", "Runtime", "Failed"]);
    expect(collection.item.slice(-3).map((folder) => folder.name)).toEqual(["Capping (endpointConfigs)", "Runtime calls", "Failed calls"]);
    expect(expectedRequests.map((path) => path.replace(/^(UC\d) .* \/ /, "$1 "))).toEqual([
      "UC1 list", "UC1 create", "UC1 candeploy", "UC1 deploy",
      "UC2 list", "UC2 get", "UC2 update", "UC2 candeploy", "UC2 deploy",
      "UC3 list", "UC3 undeploy", "UC3 delete",
      "UC4 list", "UC4 delete with forceDelete",
      "UC5 list", "UC5 get", "UC5 update",
      "Capping (endpointConfigs) / create a config that cannot be deployed yet",
      "Capping (endpointConfigs) / deploy: refused",
      "Capping (endpointConfigs) / update with a rating",
      "Capping (endpointConfigs) / candeploy",
      "Capping (endpointConfigs) / list",
      "Capping (endpointConfigs) / deploy",
      "Capping (endpointConfigs) / get the deployed config",
      "Capping (endpointConfigs) / submit a call the config caps",
      "Capping (endpointConfigs) / undeploy",
      "Capping (endpointConfigs) / get the undeployed config",
      "Capping (endpointConfigs) / delete",
      "Capping (endpointConfigs) / get the deleted config",
      "Runtime calls / submit a call",
      "Runtime calls / submit a batch",
      "Runtime calls / get the call",
      "Runtime calls / repeat the call with the same Idempotency-Key",
      "Failed calls / submit a call that will fail",
      "Failed calls / wait until it failed",
      "Failed calls / list the failed calls",
      "Failed calls / replay the failed call",
      "Failed calls / get the replayed call",
    ]);
  });

  it("ships an environment template with exactly the variables the collection reads from it", () => {
    const collectionVariables = new Set(collection.variable.map((v) => v.key));
    const used = new Set([...JSON.stringify(collection).matchAll(/\{\{(\w+)\}\}/g)].map((match) => match[1]));
    const fromEnvironment = [...used].filter((name) => name && !collectionVariables.has(name)).sort();
    expect(fromEnvironment).toEqual(["ACCESS_TOKEN", "API_KEY", "BASE_PATH", "IMS_ORG", "JO_HOST", "SANDBOX_NAME", "TARGET_URL"]);
    expect(environment.values.map((v) => v.key).sort()).toEqual(fromEnvironment);
  });

  let runs = 0;
  /** A path of the sink of its own for each run's TARGET_URL (none is a prefix of another). */
  const nextTarget = () => `/postman/run-${++runs}/target`;

  /** The environment's variables, filled in for `tenant`. */
  function environmentFor(tenant: Tenant, basePath: string, targetUrl: string): EnvironmentValue[] {
    const values: Record<string, string> = {
      JO_HOST: app.url,
      BASE_PATH: basePath,
      SANDBOX_NAME: tenant.prodSandbox.name,
      ACCESS_TOKEN: tenant.token,
      API_KEY: tenant.clientId,
      IMS_ORG: tenant.orgId,
      TARGET_URL: targetUrl,
    };
    return environment.values.map(({ key }) => ({ key, value: values[key] ?? "" }));
  }

  /**
   * Runs the whole collection for `tenant` on `basePath`, after `arrange` (given the run's TARGET_URL) if any, and
   * expects every request to run and pass, and the calls it submits to reach TARGET_URL.
   */
  async function expectCleanRun(tenant: Tenant, basePath: string, arrange?: (targetUrl: string) => Promise<void>) {
    const target = nextTarget();
    await arrange?.(sink.url + target);
    const { summary, executedItems } = await runCollection(collection, environmentFor(tenant, basePath, sink.url + target));

    expect(describeFailures(summary)).toBe("");
    // "wait until it failed" repeats itself until the call failed.
    const executed = executedItems.map((item) => item.name).filter((name, i, all) => name !== "wait until it failed" || all[i + 1] !== name);
    expect(executed).toEqual(expectedRequests.map((path) => path.split(" / ").at(-1)));
    // Every request's test script ran and passed at least one assertion (so at least one per request overall).
    expect(executedItems.filter((item) => item.passedAssertions === 0)).toEqual([]);
    await expectCappingConfigGone(tenant, sink.url + target);
    await expectCallsDelivered(tenant, target);
  }

  /** The capping folder deletes the config it made, for TARGET_URL and POST, and its runtime drains. */
  async function expectCappingConfigGone(tenant: Tenant, targetUrl: string) {
    expect(await app.db.cappingConfig.count({ where: { orgId: tenant.orgId, url: targetUrl, methods: { has: "POST" } } })).toBe(0);
    const runtimes = await app.db.cappingRuntime.findMany({ where: { orgId: tenant.orgId, url: targetUrl } });
    expect(runtimes.length).toBeGreaterThan(0);
    expect(runtimes.every((runtime) => runtime.status === "draining" && runtime.configUid === null)).toBe(true);
  }

  /**
   * The capping folder's call, then the runtime folder's call and batch of two, reach TARGET_URL once each: the
   * repeated submission sends nothing.
   */
  async function expectCallsDelivered(tenant: Tenant, target: string) {
    const queued = runtimeKeys(app.redisPrefix).orgQueued(tenant.orgId);
    await sink.waitForArrivals(4, { pathPrefix: target, timeoutMs: 10_000 });
    await waitFor(async () => Number((await app.redis.get(queued)) ?? 0) === 0, { timeoutMs: 10_000, message: "no call left queued" });
    const arrivals = sink.arrivalsFor(target);
    expect(arrivals.map((arrival) => (JSON.parse(arrival.body) as { orderId: number }).orderId).sort()).toEqual([4710, 4711, 4712, 4713]);
    const keys = arrivals.map((arrival) => arrival.headers["idempotency-key"]).filter((key) => key !== undefined);
    expect(keys).toEqual([expect.stringMatching(/^postman-/)]);
  }

  it.each(["/authoring", "/journey/orchestration"])("passes top to bottom against a fresh org with BASE_PATH=%s", async (basePath) => {
    await expectCleanRun(await app.createTenant(), basePath);
  });

  it("passes again on an org it already ran against (UC1 clears the config UC5 left deployed)", async () => {
    const tenant = await app.createTenant();
    await expectCleanRun(tenant, "/authoring");
    await expectCleanRun(tenant, "/authoring");
  });

  it("clears a capping config left at TARGET_URL with POST, and leaves the org's other capping configs alone", async () => {
    const tenant = await app.createTenant();
    const create = async (body: object) => {
      const res = await app.request().post("/authoring/endpointConfigs").set(tenant.headers()).send(body);
      expect(res.status, res.text).toBe(200);
      return res.body.uid as string;
    };
    const services = { action: { maxHttpConnections: 5, rating: { maxCallsCount: 50, periodInMs: 60_000 } } };
    let other = "";
    await expectCleanRun(tenant, "/journey/orchestration", async (targetUrl) => {
      // A config with TARGET_URL and POST, deployed, as an interrupted run leaves it; spelled differently, the same url.
      const left = await create({ url: targetUrl.replace(/^http:/, "HTTP:"), methods: ["POST", "PUT"], services });
      expect((await app.request().post(`/authoring/endpointConfigs/${left}/deploy`).set(tenant.headers())).status).toBe(204);
      other = await create({ url: targetUrl, methods: ["GET"], services });
    });
    const remaining = await app.db.cappingConfig.findMany({ where: { orgId: tenant.orgId } });
    expect(remaining.map((config) => config.uid)).toEqual([other]);
  });

  it("runs the capping folder on its own, twice on one org", async () => {
    const tenant = await app.createTenant();
    const folder = "Capping (endpointConfigs)";
    const requests = expectedRequests.filter((path) => path.startsWith(`${folder} / `)).map((path) => path.split(" / ").at(-1));
    for (const basePath of ["/authoring", "/journey/orchestration"]) {
      const target = nextTarget();
      const { summary, executedItems } = await runCollection(collection, environmentFor(tenant, basePath, sink.url + target), folder);
      expect(describeFailures(summary)).toBe("");
      expect(executedItems.map((item) => item.name)).toEqual(requests);
      expect(executedItems.filter((item) => item.passedAssertions === 0)).toEqual([]);
      await expectCappingConfigGone(tenant, sink.url + target);
      const [arrival] = await sink.waitForArrivals(1, { pathPrefix: target, timeoutMs: 10_000 });
      expect(JSON.parse(arrival!.body)).toMatchObject({ orderId: 4710 });
    }
  });
});
