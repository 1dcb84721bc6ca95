import { fork, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";

export interface SinkReading {
  /** Arrival times, ms since epoch, in arrival order. */
  arrivals: number[];
  /** For requests stamped with `x-bench-t0`: ms from the stamp to the arrival. */
  latencies: number[];
}

export interface Sink {
  readonly url: string;
  readonly pid: number;
  count(): Promise<number>;
  /** Waits until `expected` requests arrived (or `timeoutMs` passed), then hands over and forgets everything. */
  take(expected: number, timeoutMs: number): Promise<SinkReading>;
  close(): Promise<void>;
}

export async function startSink(): Promise<Sink> {
  const child = fork(new URL("./sink-process.mjs", import.meta.url), { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const [ready] = (await once(child, "message")) as [{ url: string }];
  const ask = async <T>(type: string): Promise<T> => {
    const reply = waitForReply<T>(child, type);
    child.send({ type });
    return reply;
  };
  const count = async () => (await ask<{ count: number }>("count")).count;
  return {
    url: ready.url,
    pid: child.pid!,
    count,
    async take(expected, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while ((await count()) < expected && Date.now() < deadline) await sleep(50);
      const { arrivals, latencies } = await ask<SinkReading>("take");
      return { arrivals, latencies };
    },
    async close() {
      child.disconnect();
      await once(child, "exit");
    },
  };
}

function waitForReply<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (message: { type: string } & T) => {
      if (message.type !== type) return;
      child.off("message", onMessage);
      resolve(message);
    };
    child.on("message", onMessage);
  });
}
