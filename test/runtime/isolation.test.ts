import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unthrottledLane } from "../../src/runtime/keys.js";
import { callsTo, getCall, submitBatch } from "../support/runtime.js";
import { startSink, type Sink } from "../support/sink.js";
import { egressAllowFor } from "../support/egress-allow.js";
import { useTestApp, type Tenant, type TestContext } from "../support/test-app.js";
import { preciseNow } from "../support/timing.js";
import { startWorkerProcess, type WorkerProcess } from "../support/worker-process.js";

// CONTRACT §11 and the amended §6: one org's pauses, backlog or slow target never delay another org's unthrottled
// calls; an unthrottled pause belongs to (org, origin); a call waiting for a pause holds no worker place.

let shared: Sink;
let other: Sink;
beforeAll(async () => {
  [shared, other] = await Promise.all([startSink(), startSink()]);
});
afterAll(async () => {
  await Promise.all([shared?.close(), other?.close()]);
});

/** One app and one worker per describe block; `orgA` is the block's tenant, `orgB` a second org. */
function useOrgs(env: Record<string, string> = {}) {
  const ctx = useTestApp(() => ({ ...egressAllowFor(shared.url, other.url), SHUTDOWN_TIMEOUT_MS: "1000", ...env }));
  const orgs = {} as { a: TestContext; b: TestContext; bTenant: Tenant };
  let worker: WorkerProcess;
  beforeAll(async () => {
    orgs.a = ctx;
    orgs.bTenant = await ctx.app.createTenant();
    orgs.b = { app: ctx.app, tenant: orgs.bTenant };
    worker = await startWorkerProcess(ctx.app);
  });
  afterAll(() => worker?.stop());
  return orgs;
}

async function submit(as: TestContext, url: string): Promise<string> {
  const res = await as.app.request().post("/runtime/calls").set(as.tenant.headers()).send({ method: "POST", url });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  expect(res.body.throttled).toBe(false);
  return res.body.callId as string;
}

/** Submits a call and resolves with how long it took, from just before the submission, to reach `sink`. */
async function msToArrive(as: TestContext, sink: Sink, path: string): Promise<number> {
  const start = preciseNow();
  await submit(as, `${sink.url}${path}`);
  const [arrival] = await sink.waitForArrivals(1, { pathPrefix: path, timeoutMs: 5000 });
  return arrival!.at - start;
}

describe("an unthrottled 429 pauses only that org's calls to that origin", () => {
  const orgs = useOrgs();

  it("org A's target answers 429 Retry-After: 30; org B's call to the same origin, and A's to another, arrive within 1 s", async () => {
    shared.respond((arrival) => (arrival.path.startsWith("/paused/a/") ? { status: 429, headers: { "Retry-After": "30" } } : {}));
    const first = await submit(orgs.a, `${shared.url}/paused/a/first`);
    await shared.waitForArrivals(1, { pathPrefix: "/paused/a/first", timeoutMs: 5000 });
    await sleep(200); // the worker has read the 429 and paused (A, origin)

    expect(await msToArrive(orgs.b, shared, "/paused/b/same-origin")).toBeLessThan(1000);
    expect(await msToArrive(orgs.a, other, "/paused/a/other-origin")).toBeLessThan(1000);

    // A's own calls to the paused origin wait, outside the worker: in BullMQ's delayed set, not holding a place.
    const second = await submit(orgs.a, `${shared.url}/paused/a/second`);
    await sleep(1500);
    expect(shared.arrivalsFor("/paused/a/")).toHaveLength(1);
    expect((await getCall(orgs.a, first)).state).toBe("queued");
    expect((await getCall(orgs.a, second)).state).toBe("queued");
    const lane = unthrottledLane(orgs.a.tenant.orgId);
    expect(await orgs.a.app.redis.zcard(orgs.a.app.keys.queueKey(lane, "delayed"))).toBe(2);
    expect(await orgs.a.app.redis.llen(orgs.a.app.keys.queueKey(lane, "active"))).toBe(0);
    // The pause is counted as no attempt.
    expect((await getCall(orgs.a, first)).attempts).toBe(0);
  });
});

describe("fair scheduling: a backlog to a slow target does not crowd out another org", () => {
  const orgs = useOrgs();
  const BACKLOG = 20_000;

  it(`org A has ${BACKLOG} calls queued to a target that answers after 2 s; org B's calls to a fast path of that origin, and to another origin, arrive within 1 s`, async () => {
    shared.respond((arrival) => (arrival.path.startsWith("/slow/") ? { delayMs: 2000 } : {}));
    await submitBatch(orgs.a, callsTo(`${shared.url}/slow/`, BACKLOG));
    await shared.waitForArrivals(100, { pathPrefix: "/slow/", timeoutMs: 10_000 });
    await sleep(500);

    const sameOrigin = await msToArrive(orgs.b, shared, "/fast/b-same-origin");
    const otherOrigin = await msToArrive(orgs.b, other, "/fast/b-other-origin");
    expect(sameOrigin).toBeLessThan(1000);
    expect(otherOrigin).toBeLessThan(1000);
    // A is still far from done: its backlog is what B was measured against.
    expect(shared.arrivalsFor("/slow/").length).toBeLessThan(BACKLOG / 2);
  });
});
