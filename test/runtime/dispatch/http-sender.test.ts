import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { EgressPolicy } from "../../../src/egress/policy.js";
import { parseRules } from "../../../src/egress/rules.js";
import { DEFAULT_BODY_PREVIEW_BYTES as BODY_PREVIEW_BYTES } from "../../../src/config/defaults.js";
import { createHttpSender, type HttpSender, type HttpSenderOptions, type OutboundRequest } from "../../../src/runtime/dispatch/http-sender.js";
import { startConnectProxy, type ConnectProxy } from "../../support/connect-proxy.js";
import { egressAllowFor } from "../../support/egress-allow.js";


type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

interface Sink {
  url: string;
  /** Sockets that carried at least one request, by identity. */
  sockets: Set<Socket>;
  /** Every TCP connection accepted, requests or not. */
  connections: number;
  close(): Promise<void>;
}

async function startSink(handler: Handler): Promise<Sink> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((req, res) => {
    sockets.add(req.socket);
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => handler(req, Buffer.concat(chunks).toString("utf8"), res));
  });
  server.on("connection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    sockets,
    get connections() {
      return connections;
    },
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
let sender: HttpSender;

/** An egress policy allowing exactly these sinks' addresses and ports. */
const allowing = (...urls: string[]): EgressPolicy => new EgressPolicy({ allow: parseRules(egressAllowFor(...urls).EGRESS_ALLOW).rules });
/** A sender allowed to reach exactly these sinks. */
const senderFor = (urls: string[], options: Omit<HttpSenderOptions, "egress"> = {}): HttpSender =>
  createHttpSender({ egress: allowing(...urls), ...options });

const call = (overrides: Partial<OutboundRequest> & { url: string }): OutboundRequest => ({
  pool: "org-a",
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
      case "/slow":
        return void setTimeout(() => res.end("slow"), 1500);
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
  sender = senderFor([target.url, otherOrigin.url]);
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

  it("previews exactly the first 1024 bytes of a 100 KB body by default", async () => {
    const outcome = expectOk(await sender.send(call({ url: `${target.url}/big` })));
    expect(outcome.status).toBe(200);
    expect(BODY_PREVIEW_BYTES).toBe(1024);
    expect(outcome.bodyPreview).toHaveLength(BODY_PREVIEW_BYTES);
    expect(outcome.bodyPreview).toBe(BIG_BODY.subarray(0, BODY_PREVIEW_BYTES).toString("utf8"));
  });

  it("previews as much as previewBytes says (RUNTIME_BODY_PREVIEW_BYTES), none with 0", async () => {
    for (const previewBytes of [0, 10, 5000]) {
      const sized = senderFor([target.url], { previewBytes });
      try {
        const outcome = expectOk(await sized.send(call({ url: `${target.url}/big` })));
        expect(outcome.bodyPreview).toBe(BIG_BODY.subarray(0, previewBytes).toString("utf8"));
      } finally {
        await sized.close();
      }
    }
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

describe("http sender: redirects are never followed (CONTRACT §6, §9)", () => {
  it("returns a 302 as the answer, Location and body included, and sends nothing else", async () => {
    const outcome = expectOk(await sender.send(call({ url: `${target.url}/hop/3` })));
    expect(outcome).toMatchObject({ status: 302, headers: { location: "/hop/2" }, bodyPreview: "still 3 to go" });
  });

  it("does not follow a 307 to another origin: that origin is never contacted", async () => {
    const before = otherOrigin.connections;
    const outcome = expectOk(await sender.send(call({ url: `${target.url}/cross`, method: "POST", body: "payload" })));
    expect(outcome.status).toBe(307);
    expect(outcome.headers.location).toBe(`${otherOrigin.url}/echo`);
    expect(otherOrigin.connections).toBe(before);
  });
});

describe("http sender: the egress policy, at connect time (CONTRACT §9)", () => {
  let unlisted: Sink;
  beforeAll(async () => {
    unlisted = await startSink((_req, _body, res) => res.end("should never be reached"));
    return () => unlisted.close();
  });
  const port = () => new URL(unlisted.url).port;

  it.each([
    ["127.0.0.1", (p: string) => `http://127.0.0.1:${p}/x`, "127.0.0.1"],
    ["2130706433", (p: string) => `http://2130706433:${p}/x`, "127.0.0.1"],
    ["0x7f.0.0.1", (p: string) => `http://0x7f.0.0.1:${p}/x`, "127.0.0.1"],
    ["::ffff:127.0.0.1", (p: string) => `http://[::ffff:127.0.0.1]:${p}/x`, "::ffff:7f00:1"],
  ])("refuses the IP literal %s on a port the allow list does not name, before connecting", async (_notation, url, address) => {
    const outcome = await sender.send(call({ url: url(port()) }));
    expect(outcome).toMatchObject({ ok: false, error: "egress_denied", message: address });
    expect(unlisted.connections).toBe(0);
  });

  it("refuses [::1]", async () => {
    const outcome = await sender.send(call({ url: `http://[::1]:${port()}/x` }));
    expect(outcome).toMatchObject({ ok: false, error: "egress_denied", message: "::1" });
  });

  it("refuses a name that resolves to loopback, on the address it resolved to, without connecting", async () => {
    const outcome = await sender.send(call({ url: `http://localhost:${port()}/x` }));
    expect(outcome).toMatchObject({ ok: false, error: "egress_denied" });
    expect(["127.0.0.1", "::1"]).toContain(outcome.ok ? "" : outcome.message);
    expect(unlisted.connections).toBe(0);
  });

  it("lets a name through to the one resolved address the allow list names (localhost → 127.0.0.1, not ::1)", async () => {
    const outcome = expectOk(await sender.send(call({ url: `http://localhost:${new URL(target.url).port}/echo` })));
    expect(outcome.status).toBe(200);
  });

  it("applies to every pool", async () => {
    const outcome = await sender.send(call({ pool: "org-b", url: `http://127.0.0.1:${port()}/x` }));
    expect(outcome).toMatchObject({ ok: false, error: "egress_denied" });
  });
});

describe("http sender: OUTBOUND_PROXY_URL", () => {
  let proxy: ConnectProxy;
  beforeAll(async () => {
    proxy = await startConnectProxy();
    return () => proxy.close();
  });

  it("sends through the proxy, whose address alone the policy is applied to", async () => {
    // Only the proxy is allowed: the target's loopback address is the proxy's business.
    const viaProxy = senderFor([proxy.url], { proxyUrl: proxy.url });
    const outcome = expectOk(await viaProxy.send(call({ url: `${target.url}/echo` })));
    await viaProxy.close();
    expect(outcome.status).toBe(200);
    expect(proxy.tunnels).toEqual([new URL(target.url).host]);
  });

  it("refuses a proxy the policy denies", async () => {
    const denied = senderFor([target.url], { proxyUrl: proxy.url });
    const outcome = await denied.send(call({ url: `${target.url}/echo` }));
    await denied.close();
    expect(outcome).toMatchObject({ ok: false, error: "egress_denied", message: "127.0.0.1" });
  });
});

describe("http sender: one connection pool per org (CONTRACT §11)", () => {
  it("an org whose sockets to an origin are all busy does not delay another org's call to it", async () => {
    const pooled = senderFor([target.url], { connections: 1 });
    const slow = pooled.send(call({ pool: "org-a", url: `${target.url}/slow` }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const startedAt = performance.now();
    const fast = expectOk(await pooled.send(call({ pool: "org-b", url: `${target.url}/echo` })));
    const fastMs = performance.now() - startedAt;
    expectOk(await slow);
    await pooled.close();
    expect(fast.status).toBe(200);
    expect(fastMs).toBeLessThan(500);
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
    const toClosed = senderFor([closed.url]);
    const outcome = await toClosed.send(call({ url: `${closed.url}/echo` }));
    await toClosed.close();
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
    const pooled = senderFor([sink.url], connections === undefined ? {} : { connections });
    for (let i = 0; i < 50; i += 1) expectOk(await pooled.send(call({ url: `${sink.url}/fast` })));
    await pooled.close();
    expect(sink.sockets.size).toBeGreaterThanOrEqual(1);
    expect(sink.sockets.size).toBeLessThanOrEqual(max);
  });

  it("never opens more than `connections` sockets per origin under concurrency", async () => {
    const pooled = senderFor([sink.url], { connections: 2 });
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () => pooled.send(call({ url: `${sink.url}/slow` }))),
    );
    await pooled.close();
    expect(outcomes.every((outcome) => outcome.ok && outcome.status === 200)).toBe(true);
    expect(sink.sockets.size).toBe(2);
  });

  it("frees the socket after a body longer than the preview", async () => {
    const pooled = senderFor([sink.url], { connections: 1 });
    const first = expectOk(await pooled.send(call({ url: `${sink.url}/trickle` })));
    expect(first.bodyPreview).toBe("m".repeat(BODY_PREVIEW_BYTES));
    expectOk(await pooled.send(call({ url: `${sink.url}/fast` })));
    await pooled.close();
    expect(sink.sockets.size).toBe(1);
  });
});

describe("http sender: the deadline and the socket", () => {
  let sink: Sink;
  const received: string[] = [];

  beforeEach(async () => {
    received.length = 0;
    sink = await startSink((req, _body, res) => {
      received.push(req.url ?? "");
      setTimeout(() => res.end("ok"), req.url === "/busy" ? 1200 : 0);
    });
    return () => sink.close();
  });

  it("a request still waiting for a socket at its deadline answers timeout then, and is never sent", async () => {
    const pooled = senderFor([sink.url], { connections: 1 });
    const busy = pooled.send(call({ url: `${sink.url}/busy` }));
    const queued = await pooled.send(call({ url: `${sink.url}/queued`, timeoutMs: 300 }));
    expect(queued).toMatchObject({ ok: false, error: "timeout" });
    expect(queued.durationMs).toBeGreaterThanOrEqual(290);
    expect(queued.durationMs).toBeLessThan(700);
    expectOk(await busy);
    expectOk(await pooled.send(call({ url: `${sink.url}/after` })));
    await pooled.close();
    expect(received).toEqual(["/busy", "/after"]);
  });

  it("reports once that the request reached its socket, only when it did", async () => {
    const pooled = senderFor([sink.url], { connections: 1 });
    const wired: string[] = [];
    const busy = pooled.send(call({ url: `${sink.url}/busy`, onWire: () => wired.push("busy") }));
    const next = pooled.send(call({ url: `${sink.url}/next`, onWire: () => wired.push("next") }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(wired).toEqual(["busy"]);
    await Promise.all([busy, next]);
    await pooled.close();
    expect(wired).toEqual(["busy", "next"]);
  });
});
