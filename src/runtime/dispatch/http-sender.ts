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
import { Agent, DecoratorHandler, Pool, ProxyAgent, request, type Dispatcher } from "undici";
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
  const pools = new Map<string, { agent: Dispatcher; dispatcher: Dispatcher; lastUsed: number }>();

  const createPool = () => {
    const agent = options.proxyUrl
      ? new ProxyAgent({ uri: options.proxyUrl, connections, clientFactory: (origin, opts) => new Pool(origin, { ...opts, connect }) })
      : new Agent({ connections, connect });
    return { agent, dispatcher: agent.compose(reportWire), lastUsed: 0 };
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
      return sendAttempt(pool.dispatcher, outbound, previewBytes);
    },
    async close() {
      clearInterval(closeIdle);
      await Promise.all([...pools.values()].map((pool) => pool.agent.close()));
      pools.clear();
    },
  };
}

async function sendAttempt(dispatcher: Dispatcher, outbound: OutboundRequest, previewBytes: number): Promise<SendOutcome> {
  const startedAt = performance.now();
  const elapsedMs = (): number => Math.round(performance.now() - startedAt);
  const deadline = AbortSignal.timeout(outbound.timeoutMs);
  try {
    const response = await request(outbound.url, {
      dispatcher,
      method: outbound.method.toUpperCase(),
      headers: outbound.headers,
      body: outbound.body,
      signal: deadline,
      ...(outbound.onWire ? { onWire: outbound.onWire } : {}),
    } as Parameters<typeof request>[1]);
    const bodyPreview = await readPreview(response.body, previewBytes);
    return {
      ok: true,
      status: response.statusCode,
      headers: joinHeaderValues(response.headers),
      bodyPreview,
      durationMs: elapsedMs(),
    };
  } catch (error) {
    const denial = egressDenial(error);
    if (denial) return { ok: false, error: "egress_denied", message: denial.address, durationMs: elapsedMs() };
    return {
      ok: false,
      error: deadline.aborted || isUndiciTimeout(error) ? "timeout" : "network",
      message: error instanceof Error ? error.message : String(error),
      durationMs: elapsedMs(),
    };
  }
}

/** Tells the caller when the request actually goes out, through the `onWire` option (see OutboundRequest). */
const reportWire: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (opts, handler) => {
  const onWire = (opts as { onWire?: () => void }).onWire;
  return dispatch(opts, onWire ? new WireHandler(handler, onWire) : handler);
};

// undici's typings declare DecoratorHandler without the handler methods it implements.
const Decorated = DecoratorHandler as unknown as new (handler: Dispatcher.DispatchHandler) => {
  onRequestStart(...args: Parameters<Required<Dispatcher.DispatchHandler>["onRequestStart"]>): void;
};

class WireHandler extends Decorated {
  private reported = false;

  constructor(
    handler: Dispatcher.DispatchHandler,
    private readonly onWire: () => void,
  ) {
    super(handler);
  }

  override onRequestStart(...args: Parameters<Required<Dispatcher.DispatchHandler>["onRequestStart"]>): void {
    if (!this.reported) {
      this.reported = true;
      this.onWire();
    }
    super.onRequestStart(...args);
  }
}

async function readPreview(body: Dispatcher.ResponseData["body"], previewBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  if (previewBytes > 0) {
    for await (const chunk of body.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      chunks.push(chunk.subarray(0, previewBytes - size));
      size += chunk.length;
      if (size >= previewBytes) break;
    }
  }
  void body.dump({ limit: DRAIN_LIMIT_BYTES }).catch(() => undefined);
  return Buffer.concat(chunks).toString("utf8");
}

function joinHeaderValues(headers: Dispatcher.ResponseData["headers"]): Record<string, string> {
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
