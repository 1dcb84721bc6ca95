import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { getCall, waitForCallStates, useRuntime } from "../support/runtime.js";
import { startSink } from "../support/sink.js";
import { memoryUsage } from "../support/test-app.js";

// What the target receives and what the record keeps of its answer (callbacks: callbacks/callbacks.test.ts).
const rt = useRuntime({ startSink });
const { ctx } = rt;

async function submit(call: object): Promise<string> {
  const res = await ctx.app.request().post("/runtime/calls").set(ctx.tenant.headers()).send(call);
  expect(res.status).toBe(202);
  return res.body.callId as string;
}

const finalRecord = async (callId: string) => (await waitForCallStates(ctx, [callId], ["succeeded", "failed"], 10_000))[0]!;

describe("the request the target receives", () => {
  it("a JSON body is sent as JSON with the caller's headers", async () => {
    await finalRecord(await submit({ method: "PUT", url: `${rt.sink.url}/req/json?x=1`, headers: { "X-Trace": "abc" }, body: { a: [1, 2] } }));
    const [arrival] = rt.sink.arrivalsFor("/req/json");
    expect(arrival).toMatchObject({ method: "PUT", path: "/req/json?x=1", body: '{"a":[1,2]}' });
    expect(arrival!.headers).toMatchObject({ "content-type": "application/json", "x-trace": "abc" });
  });

  it("a string body is sent as-is, with the caller's content-type", async () => {
    await finalRecord(await submit({ method: "POST", url: `${rt.sink.url}/req/text`, headers: { "Content-Type": "text/plain" }, body: "hello" }));
    const [arrival] = rt.sink.arrivalsFor("/req/text");
    expect(arrival).toMatchObject({ body: "hello" });
    expect(arrival!.headers["content-type"]).toBe("text/plain");
  });
});

describe("response capture", () => {
  it("keeps status, end-to-end headers and the first 1 KB of the body; sentAt, completedAt and waitMs agree", async () => {
    const body = Array.from({ length: 1000 }, (_, i) => `line ${i};`).join("");
    expect(body.length).toBeGreaterThan(8000);
    rt.sink.respondSequence("/capture", [{ status: 201, headers: { "content-type": "text/plain", "x-answer": "42" }, body }]);
    const record = await finalRecord(await submit({ method: "POST", url: `${rt.sink.url}/capture` }));

    expect(record).toMatchObject({ state: "succeeded", attempts: 1 });
    const response = record.response!;
    expect(response.status).toBe(201);
    expect(response.headers).toMatchObject({ "content-type": "text/plain", "x-answer": "42", "content-length": String(body.length) });
    expect(response.headers).not.toHaveProperty("connection");
    expect(response.headers).not.toHaveProperty("keep-alive");
    expect(response.bodyPreview).toBe(body.slice(0, 1024));

    const acceptedAt = Date.parse(record.acceptedAt);
    const sentAt = Date.parse(record.sentAt!);
    const completedAt = Date.parse(record.completedAt!);
    expect(sentAt).toBeGreaterThanOrEqual(acceptedAt);
    expect(completedAt).toBeGreaterThanOrEqual(sentAt);
    expect(record.waitMs).toBe(sentAt - acceptedAt);
    expect(completedAt - acceptedAt).toBeLessThan(5000);
  });

  it("keeps the response's headers in order up to 1 KB of names and values", async () => {
    const headers = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`x-h${String(i).padStart(2, "0")}`, "v".repeat(45)]));
    rt.sink.respondSequence("/capture/headers", [{ status: 200, headers }]);
    const record = await finalRecord(await submit({ method: "GET", url: `${rt.sink.url}/capture/headers` }));
    const kept = Object.entries(record.response!.headers).filter(([name]) => name.startsWith("x-h"));
    // 50 bytes each: the first 20 fit in 1 KB with what the sink adds before them (date, content-length...).
    expect(kept.length).toBeGreaterThan(10);
    expect(kept.length).toBeLessThan(21);
    expect(kept.map(([name]) => name)).toEqual(Object.keys(headers).slice(0, kept.length));
    const bytes = Object.entries(record.response!.headers).reduce((sum, [name, value]) => sum + name.length + value.length, 0);
    expect(bytes).toBeLessThanOrEqual(1024);
  });

  it("a finished record with a 1 KB preview of a 2 KB body takes at most 1.5 KB of Redis", async () => {
    const body = JSON.stringify({ pad: "p".repeat(2048) });
    rt.sink.respondSequence("/capture/size", [{ status: 200, headers: { "content-type": "application/json" }, body }]);
    const callId = await submit({ method: "POST", url: `${rt.sink.url}/capture/size`, body: { x: 1 } });
    const record = await finalRecord(callId);
    expect(record.response!.bodyPreview).toBe(body.slice(0, 1024));
    expect(await memoryUsage(ctx.app.redis, ctx.app.keys.call(callId))).toBeLessThanOrEqual(1536);
  });

  it("a call still queued has no sentAt, completedAt or response, and a growing waitMs", async () => {
    // A 429 pauses the unthrottled lane for the sink's origin, so the next call waits queued.
    rt.sink.respondSequence("/capture/pause", [{ status: 429, headers: { "retry-after": "3" } }]);
    await submit({ method: "POST", url: `${rt.sink.url}/capture/pause` });
    await rt.sink.waitForArrivals(1, { pathPrefix: "/capture/pause", timeoutMs: 5000 });
    const callId = await submit({ method: "POST", url: `${rt.sink.url}/capture/queued` });
    const early = await getCall(ctx, callId);
    await sleep(300);
    const later = await getCall(ctx, callId);
    expect(later.state).toBe("queued");
    expect(later).not.toHaveProperty("sentAt");
    expect(later).not.toHaveProperty("completedAt");
    expect(later).not.toHaveProperty("response");
    expect(later.waitMs).toBeGreaterThanOrEqual(early.waitMs + 250);
    expect((await finalRecord(callId)).state).toBe("succeeded");
  });
});
