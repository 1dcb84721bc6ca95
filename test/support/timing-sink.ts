import { fork } from "node:child_process";
import { once } from "node:events";
import { constants, setPriority } from "node:os";

export interface TimingArrival {
  at: number;
  method: string;
  path: string;
}

/** A time the sink itself did not run (ms since epoch): what arrived meanwhile was stamped late, at `to`. */
export interface Stall {
  from: number;
  to: number;
}

export interface TimingSink {
  readonly url: string;
  readonly arrivals: readonly TimingArrival[];
  readonly stalls: readonly Stall[];
  arrivalTimes(pathPrefix?: string): number[];
  waitForArrivals(count: number, options: { pathPrefix?: string; timeoutMs: number }): Promise<TimingArrival[]>;
  close(): Promise<void>;
}

/**
 * A sink (always 200) for rate measurements, in a process of its own at a raised scheduling priority: arrival
 * times are taken where nothing else runs, and on a 2-core machine shared with the API (in the test's process), the
 * worker processes and Redis, the instrument is the first to get a core when a request arrives, as an endpoint on
 * its own machine would be. (Raising a priority needs CAP_SYS_NICE; without it the sink runs at the usual one.)
 */
export async function startTimingSink(): Promise<TimingSink> {
  const sink = fork(new URL("./timing-sink-process.mjs", import.meta.url), { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  try {
    setPriority(sink.pid!, constants.priority.PRIORITY_HIGH);
  } catch {
    // Not permitted: measure at the default priority.
  }
  const arrivals: TimingArrival[] = [];
  const stalls: Stall[] = [];
  const waiters = new Set<() => void>();
  let closed: (() => void) | undefined;
  const url = await new Promise<string>((resolve, reject) => {
    sink.once("error", reject);
    sink.on("message", (message: { type: string; url?: string; arrivals?: TimingArrival[]; stalls?: Stall[] }) => {
      if (message.type === "ready") resolve(message.url!);
      if (message.type === "observed") {
        arrivals.push(...message.arrivals!);
        stalls.push(...message.stalls!);
        for (const wake of waiters) wake();
      }
      if (message.type === "closed") closed?.();
    });
  });
  const matching = (prefix?: string) => arrivals.filter((a) => !prefix || a.path.startsWith(prefix));

  return {
    url,
    arrivals,
    stalls,
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
          reject(new Error(`timing sink: expected ${count} arrivals on "${pathPrefix ?? ""}" within ${timeoutMs} ms, got ${matching(pathPrefix).length}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async close() {
      const done = new Promise<void>((resolve) => (closed = resolve));
      sink.send({ type: "close" });
      await done;
      if (sink.exitCode === null) await once(sink, "exit");
    },
  };
}
