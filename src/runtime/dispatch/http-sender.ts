/**
 * Sends one outbound call attempt (CONTRACT §6 "Send and retry"); retries and pauses are the caller's business.
 *
 * `createHttpSender({ connections })` owns one undici `Agent`: keep-alive pools with at most `connections` sockets
 * per origin, composed with the redirect interceptor. `send(request)` never throws; it resolves to a `SendOutcome`:
 * - `{ ok: true, status, headers, bodyPreview, durationMs }` for any HTTP answer, whatever its status.
 *   Header names are lower-case; repeated headers are joined with ", ". `bodyPreview` is the first 4096 bytes of
 *   the body decoded as UTF-8 (a multi-byte character cut at the limit becomes U+FFFD). The rest of the body is
 *   discarded without being buffered: up to 64 KB is drained in the background so the socket returns to the pool,
 *   a longer body closes the socket.
 * - `{ ok: false, error: "timeout" | "network", message, durationMs }` otherwise. `timeout`: the attempt (connect,
 *   redirects, headers and the body preview) did not finish within `timeoutMs`. `network`: anything else that
 *   prevented an HTTP answer: refused/reset connection, DNS, TLS, a redirect loop, or a header undici refuses to
 *   send (`connection`, `transfer-encoding`, `keep-alive`, `upgrade`, `expect`).
 * Redirects (300, 301, 302, 303, 307, 308 with a Location) are followed, across origins too, up to 5 hops; the
 * 6th redirect response is returned as is. As undici does, 301/302 after POST and 303 become GET without a body,
 * and `authorization`/`cookie` headers are dropped when the redirect leaves the origin.
 * `close()` waits for in-flight attempts, then closes every socket.
 */
import { Agent, DecoratorHandler, interceptors, request, type Dispatcher } from "undici";

export const DEFAULT_CONNECTIONS_PER_ORIGIN = 128;
export const MAX_REDIRECTIONS = 5;
export const BODY_PREVIEW_BYTES = 4096;
const DRAIN_LIMIT_BYTES = 64 * 1024;
const UNDICI_TIMEOUT_CODES = new Set(["UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);

export interface OutboundRequest {
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
  | { ok: false; error: "timeout" | "network"; message: string; durationMs: number };

export interface HttpSender {
  send(request: OutboundRequest): Promise<SendOutcome>;
  close(): Promise<void>;
}

export function createHttpSender(options: { connections?: number } = {}): HttpSender {
  const agent = new Agent({ connections: options.connections ?? DEFAULT_CONNECTIONS_PER_ORIGIN });
  const dispatcher = agent.compose(interceptors.redirect({ maxRedirections: MAX_REDIRECTIONS }), reportWire);
  return {
    send: (outbound) => sendAttempt(dispatcher, outbound),
    close: () => agent.close(),
  };
}

async function sendAttempt(dispatcher: Dispatcher, outbound: OutboundRequest): Promise<SendOutcome> {
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
    const bodyPreview = await readPreview(response.body);
    return {
      ok: true,
      status: response.statusCode,
      headers: joinHeaderValues(response.headers),
      bodyPreview,
      durationMs: elapsedMs(),
    };
  } catch (error) {
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

async function readPreview(body: Dispatcher.ResponseData["body"]): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    chunks.push(chunk.subarray(0, BODY_PREVIEW_BYTES - size));
    size += chunk.length;
    if (size >= BODY_PREVIEW_BYTES) break;
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
