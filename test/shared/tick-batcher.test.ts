import { describe, expect, it } from "vitest";
import { TickBatcher } from "../../src/shared/tick-batcher.js";

describe("TickBatcher", () => {
  it("sends the requests of one key made together in one flush, and answers each with its own result", async () => {
    const flushes: [string, number[]][] = [];
    const batcher = new TickBatcher<number, number>(0, async (key, requests) => {
      flushes.push([key, requests]);
      return requests.map((n) => n * 10);
    });
    const results = await Promise.all([batcher.add("a", 1), batcher.add("a", 2), batcher.add("b", 3)]);
    expect(results).toEqual([10, 20, 30]);
    expect(flushes).toEqual([["a", [1, 2]], ["b", [3]]]);
    expect(await batcher.add("a", 4)).toBe(40);
    expect(flushes).toHaveLength(3);
  });

  it("with a window, gathers requests made within it", async () => {
    const sizes: number[] = [];
    const batcher = new TickBatcher<number, number>(20, async (_key, requests) => {
      sizes.push(requests.length);
      return requests;
    });
    const first = batcher.add("a", 1);
    await new Promise((resolve) => setImmediate(resolve));
    await Promise.all([first, batcher.add("a", 2)]);
    expect(sizes).toEqual([2]);
  });

  it("a failed flush fails every request of its batch", async () => {
    const batcher = new TickBatcher<number, number>(0, async () => {
      throw new Error("redis down");
    });
    const results = await Promise.allSettled([batcher.add("a", 1), batcher.add("a", 2)]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
  });
});
