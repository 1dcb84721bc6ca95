/**
 * Gathers the requests made for one key within `windowMs` of the first (0: the rest of this event-loop turn)
 * and sends them to `flush` together. `flush` returns one result per request, in order; if it fails, every
 * request of the batch fails with its error. With hundreds of calls in flight, one Redis script call per batch
 * instead of one per call saves the worker and Redis most of a script call each.
 */
export class TickBatcher<Request, Result> {
  private pending = new Map<string, { request: Request; resolve(result: Result): void; reject(error: unknown): void }[]>();
  private scheduled = false;

  constructor(
    private readonly windowMs: number,
    private readonly flush: (key: string, requests: Request[]) => Promise<Result[]>,
  ) {}

  add(key: string, request: Request): Promise<Result> {
    return new Promise((resolve, reject) => {
      const batch = this.pending.get(key) ?? [];
      batch.push({ request, resolve, reject });
      this.pending.set(key, batch);
      if (!this.scheduled) {
        this.scheduled = true;
        if (this.windowMs > 0) setTimeout(() => this.flushAll(), this.windowMs);
        else setImmediate(() => this.flushAll());
      }
    });
  }

  private flushAll(): void {
    const batches = this.pending;
    this.pending = new Map();
    this.scheduled = false;
    for (const [key, batch] of batches) {
      this.flush(
        key,
        batch.map((entry) => entry.request),
      ).then(
        (results) => batch.forEach((entry, i) => entry.resolve(results[i]!)),
        (error: unknown) => batch.forEach((entry) => entry.reject(error)),
      );
    }
  }
}
