/**
 * Sends one outbound call attempt (CONTRACT §6 "Send and retry"); retries and pauses are the caller's business.
 *
 * `createHttpSender({ egress, proxyUrl, connections })` keeps one undici dispatcher per pool (an org): keep-alive
 * pools with at most `connections` sockets per origin, so one org's slow target cannot hold the sockets another
 * org's calls to the same origin need (CONTRACT §11). Every connection goes through the egress policy
 * (`egressConnector`, CONTRACT §9); with `proxyUrl` every request goes through that HTTP(S) proxy instead, and the
 * policy applies to the proxy's address. A dispatcher unused for `idleCloseMs` is closed.
 *
 * `send(request)` never throws; it resolves to a `SendOutcome`:
 * - `{ ok: true, status, headers, bodyPreview, durationMs }` for any HTTP answer, whatever its status. Redirects
 *   are not followed: a 3xx is an answer like any other. Header names are lower-case; repeated headers are joined
 *   with ", ". `bodyPreview` is the first `previewBytes` (default 1024) bytes of the body decoded as UTF-8 (a multi-byte character cut at
 *   the limit becomes U+FFFD). The rest of the body is discarded without being buffered: up to 64 KB is drained in
 *   the background so the socket returns to the pool, a longer body closes the socket.
 * - `{ ok: false, error: "timeout" | "network" | "egress_denied", message, durationMs }` otherwise. `timeout`: the
 *   attempt (connect, headers and the body preview) did not finish within `timeoutMs`. `egress_denied`: the policy
 *   refused the address (`message` is that address). `network`: anything else that prevented an HTTP answer:
 *   refused/reset connection, DNS, TLS.
 * `close()` waits for in-flight attempts, then closes every socket.
 */
import { Agent, Pool, ProxyAgent, type Dispatcher } from "undici";
import { DEFAULT_BODY_PREVIEW_BYTES } from "../../config/defaults.js";
import { egressConnector, egressDenial } from "../../egress/connector.js";
import type { EgressPolicy } from "../../egress/policy.js";

export const DEFAULT_CONNECTIONS_PER_ORIGIN = 128;
const DRAIN_LIMIT_BYTES = 64 * 1024;
const DEFAULT_IDLE_CLOSE_MS = 5 * 60_000;
const UNDICI_TIMEOUT_CODES = new Set(["UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);

export interface OutboundRequest {
  /** Whose connection pool carries the request (the org): pools are never shared between orgs. */
  pool: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  /** Called once, when the request is handed to its socket (after any connection set-up). */
  onWire?: () => void;
}

export type SendOutcome =
  | { ok: true; status: number; headers: Record<string, string>; bodyPreview: string; durationMs: number }
  | { ok: false; error: "timeout" | "network" | "egress_denied"; message: string; durationMs: number };

export interface HttpSender {
  send(request: OutboundRequest): Promise<SendOutcome>;
  close(): Promise<void>;
}

export interface HttpSenderOptions {
  egress: EgressPolicy;
  /** OUTBOUND_PROXY_URL: every request goes through this HTTP(S) proxy. */
  proxyUrl?: string;
  connections?: number;
  idleCloseMs?: number;
  /** RUNTIME_BODY_PREVIEW_BYTES: how much of each response's body is read and returned. */
  previewBytes?: number;
}

export function createHttpSender(options: HttpSenderOptions): HttpSender {
  const connections = options.connections ?? DEFAULT_CONNECTIONS_PER_ORIGIN;
  const connect = egressConnector(options.egress);
  const idleCloseMs = options.idleCloseMs ?? DEFAULT_IDLE_CLOSE_MS;
  const previewBytes = options.previewBytes ?? DEFAULT_BODY_PREVIEW_BYTES;
  const pools = new Map<string, { agent: Dispatcher; lastUsed: number }>();

  const createPool = () => {
    const agent = options.proxyUrl
      ? new ProxyAgent({ uri: options.proxyUrl, connections, clientFactory: (origin, opts) => new Pool(origin, { ...opts, connect }) })
      : new Agent({ connections, connect });
    return { agent, lastUsed: 0 };
  };
  const closeIdle = setInterval(() => {
    const cutoff = Date.now() - idleCloseMs;
    for (const [key, pool] of pools) {
      if (pool.lastUsed >= cutoff) continue;
      pools.delete(key);
      void pool.agent.close().catch(() => undefined);
    }
  }, Math.min(idleCloseMs, 60_000)).unref();

  return {
    send(outbound) {
      let pool = pools.get(outbound.pool);
      if (!pool) pools.set(outbound.pool, (pool = createPool()));
      pool.lastUsed = Date.now();
      return sendAttempt(pool.agent, outbound, previewBytes);
    },
    async close() {
      clearInterval(closeIdle);
      await Promise.all([...pools.values()].map((pool) => pool.agent.close()));
      pools.clear();
    },
  };
}

function sendAttempt(dispatcher: Dispatcher, outbound: OutboundRequest, previewBytes: number): Promise<SendOutcome> {
  return new Promise((resolve) => {
    const attempt = new Attempt(outbound, previewBytes, resolve);
    let target: URL;
    try {
      target = new URL(outbound.url);
    } catch (error) {
      return attempt.onResponseError(undefined, error as Error);
    }
    try {
      dispatcher.dispatch(
        {
          origin: target.origin,
          path: `${target.pathname}${target.search}`,
          method: outbound.method.toUpperCase() as Dispatcher.HttpMethod,
          headers: outbound.headers,
          body: outbound.body ?? null,
        },
        attempt,
      );
    } catch (error) {
      attempt.onResponseError(undefined, error as Error);
    }
  });
}

/**
 * One attempt, as an undici dispatch handler: it reads the status, the headers and the body preview straight from
 * the socket's chunks (no response stream, no abort signal per request), answers once the preview is complete, and
 * then drains up to DRAIN_LIMIT_BYTES more so the socket returns to its pool; a longer body, or one still coming at
 * the deadline, closes the socket. The deadline is one timer: before the request reaches a socket it answers
 * `timeout` at once, and the request is cut when it gets there.
 */
class Attempt implements Dispatcher.DispatchHandler {
  private readonly startedAt = performance.now();
  private readonly timer: NodeJS.Timeout;
  private controller: Dispatcher.DispatchController | undefined;
  private answer: { status: number; headers: Record<string, string> } | undefined;
  private readonly chunks: Buffer[] = [];
  private received = 0;
  private settled = false;
  private timedOut = false;

  constructor(
    private readonly outbound: OutboundRequest,
    private readonly previewBytes: number,
    private readonly resolve: (outcome: SendOutcome) => void,
  ) {
    this.timer = setTimeout(() => this.onDeadline(), outbound.timeoutMs);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    const first = this.controller === undefined;
    this.controller = controller;
    if (this.settled) return controller.abort(new Error("the attempt timed out before it was sent"));
    // undici starts a request again when the one ahead of it on a pipelined socket fails: reported once.
    if (first) this.outbound.onWire?.();
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200 || this.answer) return; // 1xx: informational, the answer follows.
    this.answer = { status: statusCode, headers: joinHeaderValues(headers) };
    if (this.previewBytes === 0) this.settle();
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.received += chunk.length;
    if (this.settled) {
      if (this.received > this.previewBytes + DRAIN_LIMIT_BYTES) controller.abort(new Error("body longer than the drain limit"));
      return;
    }
    this.chunks.push(chunk);
    if (this.received >= this.previewBytes) this.settle();
  }

  onResponseEnd(): void {
    clearTimeout(this.timer);
    this.settle();
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    clearTimeout(this.timer);
    if (this.settled) return;
    this.settled = true;
    const denial = egressDenial(error);
    const durationMs = this.elapsedMs();
    if (denial) return this.resolve({ ok: false, error: "egress_denied", message: denial.address, durationMs });
    const timeout = this.timedOut || isUndiciTimeout(error);
    this.resolve({ ok: false, error: timeout ? "timeout" : "network", message: error.message, durationMs });
  }

  private onDeadline(): void {
    this.timedOut = true;
    if (!this.settled) {
      this.settled = true;
      const phase = this.answer ? "the body preview" : "an answer";
      this.resolve({ ok: false, error: "timeout", message: `no ${phase} within ${this.outbound.timeoutMs} ms`, durationMs: this.elapsedMs() });
    }
    this.controller?.abort(new Error("deadline passed"));
  }

  /** Answers with what has arrived, once (a response whose body ended before the preview filled answers too). */
  private settle(): void {
    if (this.settled || !this.answer) return;
    this.settled = true;
    const preview = Buffer.concat(this.chunks).subarray(0, this.previewBytes).toString("utf8");
    this.chunks.length = 0;
    this.resolve({ ok: true, ...this.answer, bodyPreview: preview, durationMs: this.elapsedMs() });
  }

  private elapsedMs(): number {
    return Math.round(performance.now() - this.startedAt);
  }
}

function joinHeaderValues(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const joined: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) joined[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return joined;
}

function isUndiciTimeout(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && UNDICI_TIMEOUT_CODES.has(code);
}
