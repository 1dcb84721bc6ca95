import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { KeyedQueue } from "../../src/shared/keyed-queue.js";

describe("KeyedQueue", () => {
  it("runs tasks of one key one at a time, in order, and tasks of other keys alongside", async () => {
    const queue = new KeyedQueue();
    const events: string[] = [];
    const task = (name: string, ms: number) => async () => {
      events.push(`${name} start`);
      await sleep(ms);
      events.push(`${name} end`);
      return name;
    };
    const results = await Promise.all([queue.run("a", task("a1", 30)), queue.run("a", task("a2", 1)), queue.run("b", task("b1", 5))]);
    expect(results).toEqual(["a1", "a2", "b1"]);
    expect(events.indexOf("a2 start")).toBeGreaterThan(events.indexOf("a1 end"));
    expect(events.indexOf("b1 end")).toBeLessThan(events.indexOf("a1 end"));
  });

  it("a failing task rejects its own caller only; the next task of the key still runs", async () => {
    const queue = new KeyedQueue();
    const failing = queue.run("a", () => Promise.reject(new Error("boom")));
    const next = queue.run("a", async () => "ran");
    await expect(failing).rejects.toThrow("boom");
    await expect(next).resolves.toBe("ran");
  });
});
