import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { CallRecord } from "../../src/runtime/accept/call.schema.js";
import { expectMatchesSpec } from "../support/openapi.js";
import { useRuntime } from "../support/runtime.js";
import { startSink } from "../support/sink.js";
import { waitFor } from "../support/timing.js";

// Real call API responses, from submission to a finished record, checked against openapi.yaml.

const QUEUE_BOUND = 5;
const rt = useRuntime({ startSink, env: { RUNTIME_MAX_QUEUED_PER_ORG: String(QUEUE_BOUND) } });
const { ctx } = rt;

const CALLS = "/runtime/calls";
const submit = (body: unknown, headers: Record<string, string> = {}) =>
  ctx.app.request().post(CALLS).set(ctx.tenant.headers()).set(headers).send(body as object);
const submitBatch = (calls: unknown[], headers: Record<string, string> = {}) =>
  ctx.app.request().post(`${CALLS}/batch`).set(ctx.tenant.headers()).set(headers).send({ calls });
const getRecord = (callId: string) => ctx.app.request().get(`${CALLS}/${callId}`).set(ctx.tenant.headers());

/** The record once the worker has ended the call, checked against the spec on every read. */
async function finishedRecord(callId: string): Promise<CallRecord> {
  let record: CallRecord | undefined;
  await waitFor(
    async () => {
      const response = await getRecord(callId);
      expectMatchesSpec(response, "GET", `${CALLS}/{callId}`);
      record = response.body as CallRecord;
      return record.completedAt !== undefined;
    },
    { timeoutMs: 15_000, intervalMs: 100, message: `call ${callId} ends` },
  );
  return record!;
}

describe("the call API answers as openapi.yaml documents", () => {
  it("202 for a call, then its record: queued or under way, and succeeded with the target's response", async () => {
    const key = `spec-${randomUUID()}`;
    const accepted = await submit({ method: "POST", url: `${rt.sink.url}/spec/ok`, body: { hello: "world" } }, { "Idempotency-Key": key });
    expect(accepted.status).toBe(202);
    expect(accepted.body).toMatchObject({ state: "queued", throttled: false });
    expectMatchesSpec(accepted, "POST", CALLS);

    const callId = String(accepted.body.callId);
    const early = await getRecord(callId);
    expect(early.status).toBe(200);
    expectMatchesSpec(early, "GET", `${CALLS}/{callId}`);

    const record = await finishedRecord(callId);
    expect(record).toMatchObject({ callId, state: "succeeded", attempts: 1, response: { status: 200 } });
    expect(record.sentAt).toBeDefined();
    // Documented on the Idempotency-Key parameter: the key goes on to the target.
    expect(rt.sink.arrivalsFor("/spec/ok")[0]?.headers["idempotency-key"]).toBe(key);
  });

  it("a failed call's record carries the last response and the error", async () => {
    rt.sink.respondSequence("/spec/missing", [{ status: 404, body: "no such item" }]);
    const accepted = await submit({ method: "GET", url: `${rt.sink.url}/spec/missing` });
    expect(accepted.status).toBe(202);
    const record = await finishedRecord(String(accepted.body.callId));
    expect(record).toMatchObject({ state: "failed", attempts: 1, error: "HTTP 404", response: { status: 404, bodyPreview: "no such item" } });
  });

  it("202 for a batch, the same callIds for an Idempotency-Key replay, 409 for the key reused with another count", async () => {
    const key = `spec-${randomUUID()}`;
    const calls = [
      { method: "PUT", url: `${rt.sink.url}/spec/batch/1`, body: "plain text" },
      { method: "DELETE", url: `${rt.sink.url}/spec/batch/2` },
    ];
    const batch = await submitBatch(calls, { "Idempotency-Key": key });
    expect(batch.status).toBe(202);
    expect(batch.body.calls).toHaveLength(2);
    expectMatchesSpec(batch, "POST", `${CALLS}/batch`);

    const replay = await submitBatch(calls, { "Idempotency-Key": key });
    expect(replay.status).toBe(202);
    expect(replay.body.calls.map((call: { callId: string }) => call.callId)).toEqual(
      batch.body.calls.map((call: { callId: string }) => call.callId),
    );
    expectMatchesSpec(replay, "POST", `${CALLS}/batch`);

    const misuse = await submit(calls[0], { "Idempotency-Key": key });
    expect(misuse.status).toBe(409);
    expectMatchesSpec(misuse, "POST", CALLS);
  });

  it("400 with `errors`, 401, 404, 413, 415 and 429 with Retry-After", async () => {
    const invalid = await submit({ method: "FETCH", url: "ftp://example.org/x" });
    expect(invalid.status).toBe(400);
    expect(invalid.body.errors.map((error: { path: string }) => error.path).sort()).toEqual(["method", "url"]);
    expectMatchesSpec(invalid, "POST", CALLS);

    const unauthenticated = await ctx.app.request().get(`${CALLS}/${randomUUID()}`);
    expect(unauthenticated.status).toBe(401);
    expectMatchesSpec(unauthenticated, "GET", `${CALLS}/{callId}`);

    const unknown = await getRecord(randomUUID());
    expect(unknown.status).toBe(404);
    expectMatchesSpec(unknown, "GET", `${CALLS}/{callId}`);

    const tooLarge = await submit({ method: "POST", url: `${rt.sink.url}/spec/large`, body: "x".repeat(1024 * 1024) });
    expect(tooLarge.status).toBe(413);
    expectMatchesSpec(tooLarge, "POST", CALLS);

    const notJson = await ctx.app.request().post(CALLS).set(ctx.tenant.headers()).set("content-type", "text/plain").send("GET /");
    expect(notJson.status).toBe(415);
    expectMatchesSpec(notJson, "POST", CALLS);

    const overBound = Array.from({ length: QUEUE_BOUND + 1 }, (_, i) => ({ method: "GET", url: `${rt.sink.url}/spec/full/${i}` }));
    const full = await submitBatch(overBound);
    expect(full.status).toBe(429);
    expectMatchesSpec(full, "POST", `${CALLS}/batch`);
  });
});
