import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { ERRORS } from "../../src/shared/errors/catalogue.js";
import { expectEnvelope } from "../support/envelope.js";
import { waitForCallStates, useRuntime } from "../support/runtime.js";
import { startSink } from "../support/sink.js";

const rt = useRuntime({ startSink });
const { ctx } = rt;

const submit = (key: string, path: string, headers = ctx.tenant.headers()) =>
  ctx.app.request().post("/runtime/calls").set(headers).set("Idempotency-Key", key)
    .send({ method: "POST", url: `${rt.sink.url}${path}`, body: { path } });
const submitBatch = (key: string, paths: string[]) =>
  ctx.app.request().post("/runtime/calls/batch").set(ctx.tenant.headers()).set("Idempotency-Key", key)
    .send({ calls: paths.map((path) => ({ method: "POST", url: `${rt.sink.url}${path}` })) });

const waitForSucceeded = (...callIds: string[]) => waitForCallStates(ctx, callIds, ["succeeded"], 10_000);

/** Long enough for a duplicate send, had one been queued, to reach the rt.sink. */
const SETTLE_MS = 800;

describe("Idempotency-Key", () => {
  it("the same key twice returns the same callId, and the target gets one call carrying the key", async () => {
    const key = randomUUID();
    const first = await submit(key, "/idem/single");
    const second = await submit(key, "/idem/single");
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.body.callId).toBe(first.body.callId);

    await waitForSucceeded(first.body.callId);
    const replayed = await submit(key, "/idem/single");
    expect(replayed.body).toMatchObject({ callId: first.body.callId, state: "succeeded" });
    await sleep(SETTLE_MS);
    const arrivals = rt.sink.arrivalsFor("/idem/single");
    expect(arrivals).toHaveLength(1);
    expect(arrivals[0]!.headers["idempotency-key"]).toBe(key);
  });

  it("10 concurrent submissions with one key: one callId, one call sent", async () => {
    const key = randomUUID();
    const responses = await Promise.all(Array.from({ length: 10 }, () => submit(key, "/idem/concurrent")));
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(202));
    expect(new Set(responses.map((r) => r.body.callId)).size).toBe(1);
    await waitForSucceeded(responses[0]!.body.callId);
    await sleep(SETTLE_MS);
    expect(rt.sink.arrivalsFor("/idem/concurrent")).toHaveLength(1);
  });

  it("a batch with a key is replayed with the same callIds, in order", async () => {
    const key = randomUUID();
    const paths = ["/idem/batch/0", "/idem/batch/1", "/idem/batch/2"];
    const first = await submitBatch(key, paths);
    expect(first.status).toBe(202);
    const callIds = first.body.calls.map((c: { callId: string }) => c.callId);
    expect(new Set(callIds).size).toBe(3);
    const again = await submitBatch(key, paths);
    expect(again.status).toBe(202);
    expect(again.body.calls.map((c: { callId: string }) => c.callId)).toEqual(callIds);
    await waitForSucceeded(...callIds);
    await sleep(SETTLE_MS);
    expect(rt.sink.arrivalsFor("/idem/batch/").map((a) => a.path).sort()).toEqual(paths);
  });

  it("each call of a batch forwards its own key, `<key>:<index>` (CONTRACT §10), and every send names its call", async () => {
    const key = randomUUID();
    const paths = ["/idem/indexed/0", "/idem/indexed/1", "/idem/indexed/2"];
    const first = await submitBatch(key, paths);
    expect(first.status).toBe(202);
    const callIds = first.body.calls.map((c: { callId: string }) => c.callId) as string[];
    await waitForSucceeded(...callIds);
    const byPath = new Map(rt.sink.arrivalsFor("/idem/indexed/").map((a) => [a.path, a.headers]));
    paths.forEach((path, i) => {
      expect(byPath.get(path)?.["idempotency-key"]).toBe(`${key}:${i}`);
      expect(byPath.get(path)?.["sluice-call-id"]).toBe(callIds[i]);
    });
  });

  it("the same key for a different number of calls: 409 ERR_IDEMPOTENCY_MISMATCH, nothing new queued", async () => {
    const key = randomUUID();
    expect((await submitBatch(key, ["/idem/mismatch/0", "/idem/mismatch/1"])).status).toBe(202);
    const res = await submitBatch(key, ["/idem/mismatch/0", "/idem/mismatch/1", "/idem/mismatch/2"]);
    expectEnvelope(res, { status: 409, code: ERRORS.IDEMPOTENCY_MISMATCH.code, family: "INPUT_OUTPUT_ERROR" });
    expectEnvelope(await submit(key, "/idem/mismatch/0"), { status: 409, code: ERRORS.IDEMPOTENCY_MISMATCH.code, family: "INPUT_OUTPUT_ERROR" });
    await rt.sink.waitForArrivals(2, { pathPrefix: "/idem/mismatch/", timeoutMs: 5000 });
    await sleep(SETTLE_MS);
    expect(rt.sink.arrivalsFor("/idem/mismatch/")).toHaveLength(2);
  });

  it("keys are per org: another org's identical key gets its own call", async () => {
    const key = randomUUID();
    const other = await ctx.app.createTenant();
    const mine = await submit(key, "/idem/per-org");
    const theirs = await submit(key, "/idem/per-org", other.headers());
    expect(theirs.status).toBe(202);
    expect(theirs.body.callId).not.toBe(mine.body.callId);
    await rt.sink.waitForArrivals(2, { pathPrefix: "/idem/per-org", timeoutMs: 5000 });
  });

  it("different keys are different calls", async () => {
    const first = await submit(randomUUID(), "/idem/distinct");
    const second = await submit(randomUUID(), "/idem/distinct");
    expect(second.body.callId).not.toBe(first.body.callId);
    await rt.sink.waitForArrivals(2, { pathPrefix: "/idem/distinct", timeoutMs: 5000 });
  });
});
