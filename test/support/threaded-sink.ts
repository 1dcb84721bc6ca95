import { Worker } from "node:worker_threads";

export interface ThreadedArrival {
  at: number;
  method: string;
  path: string;
}

export interface ThreadedSink {
  readonly url: string;
  readonly arrivals: readonly ThreadedArrival[];
  arrivalTimes(pathPrefix?: string): number[];
  waitForArrivals(count: number, options: { pathPrefix?: string; timeoutMs: number }): Promise<ThreadedArrival[]>;
  close(): Promise<void>;
}

/**
 * A sink (always 200) on its own thread, for rate measurements: arrival times are taken where nothing else runs,
 * so the API and the test itself, which share the main thread, cannot delay or bunch them.
 */
export async function startThreadedSink(): Promise<ThreadedSink> {
  const worker = new Worker(new URL("./sink-thread.mjs", import.meta.url));
  const arrivals: ThreadedArrival[] = [];
  const waiters = new Set<() => void>();
  let closed: (() => void) | undefined;
  const url = await new Promise<string>((resolve, reject) => {
    worker.once("error", reject);
    worker.on("message", (message: { type: string; url?: string; arrivals?: ThreadedArrival[] }) => {
      if (message.type === "ready") resolve(message.url!);
      if (message.type === "arrivals") {
        arrivals.push(...message.arrivals!);
        for (const wake of waiters) wake();
      }
      if (message.type === "closed") closed?.();
    });
  });
  const matching = (prefix?: string) => arrivals.filter((a) => !prefix || a.path.startsWith(prefix));

  return {
    url,
    arrivals,
    arrivalTimes: (prefix) => matching(prefix).map((a) => a.at).sort((x, y) => x - y),
    waitForArrivals(count, { pathPrefix, timeoutMs }) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = matching(pathPrefix);
          if (found.length < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`threaded sink: expected ${count} arrivals on "${pathPrefix ?? ""}" within ${timeoutMs} ms, got ${matching(pathPrefix).length}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async close() {
      const done = new Promise<void>((resolve) => (closed = resolve));
      worker.postMessage({ type: "close" });
      await done;
      await worker.terminate();
    },
  };
}
