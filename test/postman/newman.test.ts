import { readFileSync } from "node:fs";
import newman, { type NewmanRunSummary } from "newman";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runtimeKeys } from "../../src/runtime/keys.js";
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
interface EnvironmentValue {
  key: string;
  value: string;
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

interface ExecutedItem {
  name: string;
  passedAssertions: number;
}
interface CollectionRun {
  summary: NewmanRunSummary;
  /** The collection's requests as they ran; `pm.sendRequest` calls from scripts are not items. */
  executedItems: ExecutedItem[];
}

function runCollection(values: EnvironmentValue[]): Promise<CollectionRun> {
  const executedItems: ExecutedItem[] = [];
  let passedAssertions = 0;
  return new Promise((resolve, reject) => {
    newman
      .run({ collection, environment: { values }, timeoutRequest: 10_000 }, (error, summary) =>
        error ? reject(error) : resolve({ summary, executedItems }),
      )
      .on("beforeItem", () => (passedAssertions = 0))
      .on("assertion", (error: unknown) => (passedAssertions += error ? 0 : 1))
      .on("item", (_error, { item }: { item: { name: string } }) => executedItems.push({ name: item.name, passedAssertions }));
  });
}

/** One line per failure, "request: test — message" (a script error has no test name), for a readable assertion diff. */
const describeFailures = (summary: NewmanRunSummary) =>
  summary.run.failures
    .map(({ source, error }) => `${source?.name ?? "?"}: ${error.test ? `${error.test} — ` : ""}${error.message}`)
    .join("\n");

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

  it("holds the seed's five use cases, each with the seed's ordered request list, then the runtime and failed calls", () => {
    expect(collection.item.map((folder) => folder.name.split(" ")[0])).toEqual(["UC1", "UC2", "UC3", "UC4", "UC5", "Runtime", "Failed"]);
    expect(collection.item.slice(-2).map((folder) => folder.name)).toEqual(["Runtime calls", "Failed calls"]);
    expect(expectedRequests.map((path) => path.replace(/^(UC\d) .* \/ /, "$1 "))).toEqual([
      "UC1 list", "UC1 create", "UC1 candeploy", "UC1 deploy",
      "UC2 list", "UC2 get", "UC2 update", "UC2 candeploy", "UC2 deploy",
      "UC3 list", "UC3 undeploy", "UC3 delete",
      "UC4 list", "UC4 delete with forceDelete",
      "UC5 list", "UC5 get", "UC5 update",
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

  async function expectCleanRun(tenant: Tenant, basePath: string) {
    const target = `/postman/run-${++runs}`;
    const values: Record<string, string> = {
      JO_HOST: app.url,
      BASE_PATH: basePath,
      SANDBOX_NAME: tenant.prodSandbox.name,
      ACCESS_TOKEN: tenant.token,
      API_KEY: tenant.clientId,
      IMS_ORG: tenant.orgId,
      TARGET_URL: sink.url + target,
    };
    const { summary, executedItems } = await runCollection(environment.values.map(({ key }) => ({ key, value: values[key] ?? "" })));

    expect(describeFailures(summary)).toBe("");
    // "wait until it failed" repeats itself until the call failed.
    const executed = executedItems.map((item) => item.name).filter((name, i, all) => name !== "wait until it failed" || all[i + 1] !== name);
    expect(executed).toEqual(expectedRequests.map((path) => path.split(" / ").at(-1)));
    // Every request's test script ran and passed at least one assertion (so at least one per request overall).
    expect(executedItems.filter((item) => item.passedAssertions === 0)).toEqual([]);
    await expectCallsDelivered(tenant, target);
  }

  /** The folder's call, then its batch of two, reach TARGET_URL once each: the repeated submission sends nothing. */
  async function expectCallsDelivered(tenant: Tenant, target: string) {
    const queued = runtimeKeys(app.redisPrefix).orgQueued(tenant.orgId);
    await sink.waitForArrivals(3, { pathPrefix: target, timeoutMs: 10_000 });
    await waitFor(async () => Number((await app.redis.get(queued)) ?? 0) === 0, { timeoutMs: 10_000, message: "no call left queued" });
    const arrivals = sink.arrivalsFor(target);
    expect(arrivals.map((arrival) => (JSON.parse(arrival.body) as { orderId: number }).orderId).sort()).toEqual([4711, 4712, 4713]);
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
});
