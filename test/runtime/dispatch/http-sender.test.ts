import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { BODY_PREVIEW_BYTES, createHttpSender, type OutboundRequest } from "../../../src/runtime/dispatch/http-sender.js";

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

interface Sink {
  url: string;
  /** Sockets that carried at least one request, by identity. */
  sockets: Set<Socket>;
  close(): Promise<void>;
}

async function startSink(handler: Handler): Promise<Sink> {
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    sockets.add(req.socket);
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => handler(req, Buffer.concat(chunks).toString("utf8"), res));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const BIG_BODY = Buffer.from(Array.from({ length: 100 * 1024 }, (_, i) => 97 + (i % 26)));
const MEDIUM_BODY = Buffer.alloc(20 * 1024, "m");

let target: Sink;
let otherOrigin: Sink;
const sender = createHttpSender();

const call = (overrides: Partial<OutboundRequest> & { url: string }): OutboundRequest => ({
  method: "GET",
  headers: {},
  timeoutMs: 5000,
  ...overrides,
});

beforeAll(async () => {
  otherOrigin = await startSink((req, body, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ origin: "other", method: req.method, headers: req.headers, body }));
  });
  target = await startSink((req, body, res) => {
    const url = new URL(req.url ?? "/", "http://sink");
    const hop = /^\/hop\/(\d+)$/.exec(url.pathname);
    if (hop) {
      const remaining = Number(hop[1]);
      if (remaining === 0) return void res.end("arrived");
      res.writeHead(302, { location: `/hop/${remaining - 1}` });
      return void res.end(`still ${remaining} to go`);
    }
    switch (url.pathname) {
      case "/echo":
        res.setHeader("content-type", "application/json");
        return void res.end(JSON.stringify({ method: req.method, headers: req.headers, body }));
      case "/teapot":
        res.writeHead(418, { "x-multi": ["a", "b"], "set-cookie": ["a=1", "b=2"], "X-Single": "one" });
        return void res.end("short and stout, h\u00e9 \u2713");
      case "/big":
        return void res.end(BIG_BODY);
      case "/cross":
        res.writeHead(307, { location: `${otherOrigin.url}/echo` });
        return void res.end();
      case "/hang":
        return; // never answers
      case "/stall-body":
        res.writeHead(200, { "content-length": "100" });
        return void res.write("only part of it");
      default:
        res.statusCode = 404;
        res.end();
    }
  });
});

afterAll(async () => {
  await sender.close();
  await Promise.all([target.close(), otherOrigin.close()]);
});

function expectOk<T extends { ok: boolean }>(outcome: T): Extract<T, { ok: true }> {
  expect(outcome).toMatchObject({ ok: true });
  return outcome as Extract<T, { ok: true }>;
}

describe("http sender: answers", () => {
  it("returns status, joined lower-case headers and the body for any status", async () => {
    const outcome = expectOk(await sender.send(call({ url: `${target.url}/teapot` })));
    expect(outcome.status).toBe(418);
    expect(outcome.headers["x-multi"]).toBe("a, b");
    expect(outcome.headers["set-cookie"]).toBe("a=1, b=2");
    expect(outcome.headers["x-single"]).toBe("one");
    expect(outcome.bodyPreview).toBe("short and stout, h\u00e9 \u2713");
    expect(outcome.durationMs).toBeGreaterThanOrEqual(0);
    expect(outcome.durationMs).toBeLessThan(1000);
  });

  it("previews exactly the first 4096 bytes of a 100 KB body", async () => {
    const outcome = expectOk(await sender.send(call({ url: `${target.url}/big` })));
    expect(outcome.status).toBe(200);
    expect(outcome.bodyPreview).toHaveLength(BODY_PREVIEW_BYTES);
    expect(outcome.bodyPreview).toBe(BIG_BODY.subarray(0, BODY_PREVIEW_BYTES).toString("utf8"));
  });

  it("delivers method, headers and body intact", async () => {
    const payload = JSON.stringify({ hello: "w\u00f6rld", n: 1 });
    const outcome = expectOk(
      await sender.send(
        call({
          url: `${target.url}/echo?x=1`,
          method: "patch",
          headers: { "content-type": "application/json", "X-Custom": "value", "idempotency-key": "k-1" },
          body: payload,
        }),
      ),
    );
    const seen = JSON.parse(outcome.bodyPreview) as { method: string; headers: Record<string, string>; body: string };
    expect(seen.method).toBe("PATCH");
    expect(seen.body).toBe(payload);
    expect(seen.headers).toMatchObject({
      "content-type": "application/json",
      "x-custom": "value",
      "idempotency-key": "k-1",
      "content-length": String(Buffer.byteLength(payload)),
    });
  });
});

describe("http sender: redirects", () => {
  it("follows a chain of 3 redirects", async () => {
    const outcome = expectOk(await sender.send(call({ url: `${target.url}/hop/3` })));
    expect(outcome).toMatchObject({ status: 200, bodyPreview: "arrived" });
  });

  it("follows exactly 5 redirects", async () => {
    const outcome = expectOk(await sender.send(call({ url: `${target.url}/hop/5` })));
    expect(outcome).toMatchObject({ status: 200, bodyPreview: "arrived" });
  });

  it("returns the 6th redirect response as is", async () => {
    const outcome = expectOk(await sender.send(call({ url: `${target.url}/hop/6` })));
    expect(outcome.status).toBe(302);
    expect(outcome.headers.location).toBe("/hop/0");
    expect(outcome.bodyPreview).toBe("still 1 to go");
  });

  it("follows a redirect to another origin, keeping a 307's body but not its authorization", async () => {
    const outcome = expectOk(
      await sender.send(
        call({
          url: `${target.url}/cross`,
          method: "POST",
          headers: { "content-type": "text/plain", authorization: "Bearer secret", "x-custom": "kept" },
          body: "payload",
        }),
      ),
    );
    const seen = JSON.parse(outcome.bodyPreview) as { origin: string; method: string; headers: object; body: string };
    expect(seen).toMatchObject({ origin: "other", method: "POST", body: "payload", headers: { "x-custom": "kept" } });
    expect(seen.headers).not.toHaveProperty("authorization");
  });
});

describe("http sender: failures", () => {
  it("cuts a server that never answers at timeoutMs", async () => {
    const outcome = await sender.send(call({ url: `${target.url}/hang`, timeoutMs: 400 }));
    expect(outcome).toMatchObject({ ok: false, error: "timeout" });
    expect(outcome.durationMs).toBeGreaterThanOrEqual(390);
    expect(outcome.durationMs).toBeLessThan(500);
  });

  it("counts the body preview inside timeoutMs", async () => {
    const outcome = await sender.send(call({ url: `${target.url}/stall-body`, timeoutMs: 400 }));
    expect(outcome).toMatchObject({ ok: false, error: "timeout" });
    expect(outcome.durationMs).toBeGreaterThanOrEqual(390);
    expect(outcome.durationMs).toBeLessThan(500);
  });

  it("reports a refused connection as a network error", async () => {
    const closed = await startSink(() => undefined);
    await closed.close();
    const outcome = await sender.send(call({ url: `${closed.url}/echo` }));
    expect(outcome).toMatchObject({ ok: false, error: "network" });
    expect(outcome.ok === false && outcome.message).toMatch(/ECONNREFUSED/);
  });

  it("reports a header undici refuses to send as a network error", async () => {
    const outcome = await sender.send(call({ url: `${target.url}/echo`, headers: { "transfer-encoding": "chunked" } }));
    expect(outcome).toMatchObject({ ok: false, error: "network" });
  });
});

describe("http sender: connection reuse", () => {
  let sink: Sink;

  beforeEach(async () => {
    sink = await startSink((req, _body, res) => {
      if (req.url === "/trickle") {
        // The rest of the body arrives after the preview is complete, so the sender has to drain it.
        res.write(MEDIUM_BODY.subarray(0, 8 * 1024));
        return void setTimeout(() => res.end(MEDIUM_BODY.subarray(8 * 1024)), 50);
      }
      setTimeout(() => res.end("ok"), req.url === "/slow" ? 20 : 0);
    });
    return () => sink.close();
  });

  // undici's pool marks a socket free a moment after the response ends, so a strictly sequential caller with a
  // pool of 2+ alternates between two sockets; what matters is that sockets are reused, not opened per request.
  it.each([
    [1, 1],
    [2, 2],
    [undefined, 2],
  ])("50 sequential requests reuse keep-alive sockets (connections %s → ≤ %i)", async (connections, max) => {
    const pooled = createHttpSender(connections === undefined ? {} : { connections });
    for (let i = 0; i < 50; i += 1) expectOk(await pooled.send(call({ url: `${sink.url}/fast` })));
    await pooled.close();
    expect(sink.sockets.size).toBeGreaterThanOrEqual(1);
    expect(sink.sockets.size).toBeLessThanOrEqual(max);
  });

  it("never opens more than `connections` sockets per origin under concurrency", async () => {
    const pooled = createHttpSender({ connections: 2 });
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () => pooled.send(call({ url: `${sink.url}/slow` }))),
    );
    await pooled.close();
    expect(outcomes.every((outcome) => outcome.ok && outcome.status === 200)).toBe(true);
    expect(sink.sockets.size).toBe(2);
  });

  it("frees the socket after a body longer than the preview", async () => {
    const pooled = createHttpSender({ connections: 1 });
    const first = expectOk(await pooled.send(call({ url: `${sink.url}/trickle` })));
    expect(first.bodyPreview).toBe("m".repeat(BODY_PREVIEW_BYTES));
    expectOk(await pooled.send(call({ url: `${sink.url}/fast` })));
    await pooled.close();
    expect(sink.sockets.size).toBe(1);
  });
});
