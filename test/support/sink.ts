import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { preciseNow } from "./timing.js";

/** One request as the sink received it. */
export interface Arrival {
  /** When the request head arrived: `performance.timeOrigin + performance.now()` (ms, sub-ms resolution). */
  at: number;
  method: string;
  /** Path including the query string. */
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface SinkResponse {
  /** Default 200. */
  status?: number;
  headers?: Record<string, string>;
  /** Default `{"ok":true}`, sent as application/json unless `headers` set a content-type. */
  body?: string;
  /** Wait this long before answering. */
  delayMs?: number;
}

/** `countForPath` is 1 for the first arrival at this path (query string ignored), 2 for the second, ... */
export type SinkHandler = (arrival: Arrival, countForPath: number) => SinkResponse | Promise<SinkResponse>;

export interface WaitForArrivalsOptions {
  /** Count only arrivals whose path (query included) starts with this. */
  pathPrefix?: string;
  timeoutMs: number;
}

export interface Sink {
  /** e.g. `http://127.0.0.1:43817` (no trailing slash). */
  readonly url: string;
  /** Every fully received request, in the order its body completed (use `arrivalTimes` for sorted times). */
  readonly arrivals: readonly Arrival[];
  /** Answers every request not claimed by `hang` or an unexhausted `respondSequence`. */
  respond(handler: SinkHandler): void;
  /** The k-th arrival (0-based) at `path` gets `responses[k]`; later ones fall through to the handler. */
  respondSequence(path: string, responses: SinkResponse[]): void;
  /** Requests to `path` are recorded and never answered (until `close`). */
  hang(path: string): void;
  arrivalsFor(pathPrefix: string): Arrival[];
  /** Sorted `at` values of the arrivals (optionally only those whose path starts with `pathPrefix`). */
  arrivalTimes(pathPrefix?: string): number[];
  /** Resolves with the matching arrivals once at least `count` have arrived. */
  waitForArrivals(count: number, options: WaitForArrivalsOptions): Promise<Arrival[]>;
  /** Forgets arrivals and per-path counts, and restores the default response (drops handler, sequences, hangs). */
  reset(): void;
  /** Destroys every connection (hanging ones included) and stops listening. Idempotent. */
  close(): Promise<void>;
}

const DEFAULT_HANDLER: SinkHandler = () => ({});
const DEFAULT_BODY = '{"ok":true}';

/** Path of the `hang`/`respondSequence` key space: the request path without its query string. */
function pathnameOf(path: string): string {
  const query = path.indexOf("?");
  return query === -1 ? path : path.slice(0, query);
}

interface ArrivalWaiter {
  count: number;
  pathPrefix: string;
  seen: number;
  resolve(arrivals: Arrival[]): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

class SinkServer implements Sink {
  private recorded: Arrival[] = [];
  private countsByPath = new Map<string, number>();
  private handler = DEFAULT_HANDLER;
  private sequences = new Map<string, SinkResponse[]>();
  private hangingPaths = new Set<string>();
  private waiters = new Set<ArrivalWaiter>();
  private delayTimers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(
    private readonly server: Server,
    readonly url: string,
  ) {
    server.on("request", (req: IncomingMessage, res: ServerResponse) => this.receive(req, res));
  }

  get arrivals(): readonly Arrival[] {
    return this.recorded;
  }

  respond(handler: SinkHandler): void {
    this.handler = handler;
  }

  respondSequence(path: string, responses: SinkResponse[]): void {
    this.sequences.set(path, [...responses]);
  }

  hang(path: string): void {
    this.hangingPaths.add(path);
  }

  arrivalsFor(pathPrefix: string): Arrival[] {
    return this.recorded.filter((arrival) => arrival.path.startsWith(pathPrefix));
  }

  arrivalTimes(pathPrefix = ""): number[] {
    return this.arrivalsFor(pathPrefix)
      .map((arrival) => arrival.at)
      .sort((a, b) => a - b);
  }

  waitForArrivals(count: number, { pathPrefix = "", timeoutMs }: WaitForArrivalsOptions): Promise<Arrival[]> {
    const already = this.arrivalsFor(pathPrefix);
    if (already.length >= count) return Promise.resolve(already);
    if (this.closed) return Promise.reject(new Error("sink.waitForArrivals: the sink is closed"));
    return new Promise((resolve, reject) => {
      const waiter: ArrivalWaiter = {
        count,
        pathPrefix,
        seen: already.length,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          const scope = pathPrefix ? ` with path prefix "${pathPrefix}"` : "";
          reject(new Error(`sink.waitForArrivals: expected ${count} arrivals${scope} within ${timeoutMs} ms, got ${waiter.seen}`));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  reset(): void {
    this.recorded = [];
    this.countsByPath.clear();
    this.handler = DEFAULT_HANDLER;
    this.sequences.clear();
    this.hangingPaths.clear();
    for (const waiter of this.waiters) waiter.seen = 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.delayTimers) clearTimeout(timer);
    this.delayTimers.clear();
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error(`sink.waitForArrivals: the sink closed after ${waiter.seen} of ${waiter.count} arrivals`));
    }
    this.waiters.clear();
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await stopped;
  }

  private receive(req: IncomingMessage, res: ServerResponse): void {
    const at = preciseNow();
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    // A client that disconnects mid-body must not crash the test process; such a request is simply not recorded.
    req.on("error", () => undefined);
    req.on("end", () => {
      const path = req.url ?? "/";
      const arrival: Arrival = { at, method: req.method ?? "GET", path, headers: req.headers, body };
      const pathname = pathnameOf(path);
      const countForPath = (this.countsByPath.get(pathname) ?? 0) + 1;
      this.countsByPath.set(pathname, countForPath);
      this.record(arrival);
      if (!this.hangingPaths.has(pathname)) void this.answer(res, arrival, pathname, countForPath);
    });
  }

  private record(arrival: Arrival): void {
    this.recorded.push(arrival);
    for (const waiter of this.waiters) {
      if (!arrival.path.startsWith(waiter.pathPrefix)) continue;
      waiter.seen++;
      if (waiter.seen < waiter.count) continue;
      clearTimeout(waiter.timer);
      this.waiters.delete(waiter);
      waiter.resolve(this.arrivalsFor(waiter.pathPrefix));
    }
  }

  private async answer(res: ServerResponse, arrival: Arrival, pathname: string, countForPath: number): Promise<void> {
    let response: SinkResponse;
    try {
      response = this.sequences.get(pathname)?.[countForPath - 1] ?? (await this.handler(arrival, countForPath));
    } catch (error) {
      response = { status: 500, body: `sink handler threw: ${String(error)}` };
    }
    if (response.delayMs) await this.delay(response.delayMs);
    if (this.closed || res.destroyed) return;
    res.statusCode = response.status ?? 200;
    if (response.body === undefined) res.setHeader("content-type", "application/json");
    for (const [name, value] of Object.entries(response.headers ?? {})) res.setHeader(name, value);
    res.end(response.body ?? DEFAULT_BODY);
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.delayTimers.delete(timer);
        resolve();
      }, ms);
      this.delayTimers.add(timer);
    });
  }
}

/**
 * Starts a recording HTTP server on 127.0.0.1 that stands in for an external endpoint: on `port` if given (it fails
 * if that port is taken), else on a port the OS picks.
 */
export async function startSink(options: { port?: number } = {}): Promise<Sink> {
  const server = createServer({ noDelay: true });
  // Long keep-alive so clients reusing an idle socket never race the server closing it.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: options.port ?? 0, backlog: 2048 }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return new SinkServer(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
}
