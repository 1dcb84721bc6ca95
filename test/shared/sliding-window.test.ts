import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { bucketMsFor, EXACT_MAX, SlidingWindows, type WindowLimit } from "../../src/shared/sliding-window.js";
import { useTestApp } from "../support/test-app.js";
import { maxInSlidingWindow } from "../support/timing.js";

// The app's own Redis client: one Redis, or a Redis Cluster in the cluster project.
const ctx = useTestApp();
let windows: SlidingWindows;
beforeAll(() => {
  windows = new SlidingWindows(ctx.app.redis);
});
const key = () => `test:window:${randomUUID()}`;
/** The CONTRACT §12 bound on a capping config's Redis memory. */
const MAX_BYTES = 64 * 1024;

/**
 * Takes places as fast as this process can ask for `durationMs` (`parallel` requests in flight at once, so the
 * window is always asked more than it allows); the Redis times at which places were taken.
 */
async function drive(limit: WindowLimit, durationMs: number, parallel: number, onRound?: () => Promise<void>): Promise<number[]> {
  const taken: number[] = [];
  const end = Date.now() + durationMs;
  let n = 0;
  while (Date.now() < end) {
    const round = await Promise.all(Array.from({ length: parallel }, () => windows.take(limit, `s${n++}`)));
    for (const result of round) if ("taken" in result) taken.push(result.taken.atMs);
    await onRound?.();
  }
  return taken.sort((a, b) => a - b);
}

describe("an exact window (a log of sends)", () => {
  it("takes max places in any sliding window, says when the next one frees, and gives back an untaken place", async () => {
    const limit: WindowLimit = { window: key(), max: 3, windowMs: 300, bucketMs: 0 };
    const first = await Promise.all([0, 1, 2].map((i) => windows.take(limit, `s${i}`)));
    expect(first.every((result) => "taken" in result)).toBe(true);
    const full = await windows.take(limit, "s3");
    expect("waitMs" in full && full.waitMs > 250 && full.waitMs <= 300).toBe(true);

    // A send that did not go gives its place back at once.
    const last = first[2]!;
    if (!("taken" in last)) throw new Error("taken");
    await windows.untake(limit, "s2", last.taken);
    expect("taken" in (await windows.take(limit, "s4"))).toBe(true);
    expect("waitMs" in (await windows.take(limit, "s5"))).toBe(true);

    await sleep(320);
    expect("taken" in (await windows.take(limit, "s6"))).toBe(true);
  });

  it("counts a send from when it really left once restamped", async () => {
    const limit: WindowLimit = { window: key(), max: 1, windowMs: 200, bucketMs: 0 };
    expect("taken" in (await windows.take(limit, "late"))).toBe(true);
    await windows.restamp(limit, "late", 150);
    await sleep(210);
    // Without the restamp the place would be free again; the send left 150 ms late, so it holds it 150 ms longer.
    const again = await windows.take(limit, "next");
    expect("waitMs" in again && again.waitMs > 100).toBe(true);
  });
});

describe("a bucketed window (large counts)", () => {
  it("is used past EXACT_MAX only, with buckets of windowMs / buckets", () => {
    expect(bucketMsFor(EXACT_MAX, 60_000, 100)).toBe(0);
    expect(bucketMsFor(EXACT_MAX + 1, 60_000, 100)).toBe(600);
  });

  it("300,000 per 60,000 ms: exactly 300,000 places at full speed, then none, in ≤ 64 KB", async () => {
    const windowMs = 60_020;
    const limit: WindowLimit = { window: key(), max: 300_000, windowMs, bucketMs: bucketMsFor(300_000, windowMs, 100) };
    let granted = 0;
    let refused = 0;
    let peakBytes = 0;
    for (let n = 0; refused < 2000; ) {
      const round = await Promise.all(Array.from({ length: 2000 }, () => windows.take(limit, `s${n++}`)));
      for (const result of round) {
        if ("taken" in result) granted++;
        else refused++;
      }
      if (n % 20_000 === 0) peakBytes = Math.max(peakBytes, Number(await ctx.app.redis.memory("USAGE", limit.window)));
    }
    expect(granted).toBe(300_000);
    expect(Math.max(peakBytes, Number(await ctx.app.redis.memory("USAGE", limit.window)))).toBeLessThanOrEqual(MAX_BYTES);
    await ctx.app.redis.del(limit.window);
  }, 120_000);

  it("driven at full speed over a shortened period (20,000 per 2 s, 20 ms buckets): never over, and ≥ 0.95 of it per period", async () => {
    const limit: WindowLimit = { window: key(), max: 20_000, windowMs: 2000, bucketMs: 20 };
    const times = await drive(limit, 6500, 500);
    expect(maxInSlidingWindow(times, limit.windowMs)).toBeLessThanOrEqual(limit.max);
    // Every period after the first burst: the oldest bucket counts whole, so at least max per (window + bucket).
    for (let from = times[0]!; from + limit.windowMs <= times.at(-1)!; from += limit.windowMs) {
      const inPeriod = times.filter((at) => at >= from && at < from + limit.windowMs + limit.bucketMs).length;
      expect(inPeriod).toBeGreaterThanOrEqual(0.95 * limit.max);
    }
    await ctx.app.redis.del(limit.window);
  }, 60_000);

  it("stays within 64 KB with every bucket of its window in use", async () => {
    const limit: WindowLimit = { window: key(), max: 20_000, windowMs: 2000, bucketMs: 20 };
    // Just under the limit's rate, spread over the window: each of its buckets gets sends.
    const times = await drive(limit, 2500, 150, () => sleep(20));
    expect(times.length).toBeGreaterThan(10_000);
    // (A busy machine can skip a bucket between two rounds: most, not all, hold sends.)
    expect(await ctx.app.redis.hlen(limit.window)).toBeGreaterThanOrEqual(0.75 * (limit.windowMs / limit.bucketMs));
    expect(await ctx.app.redis.hlen(limit.window)).toBeLessThanOrEqual(limit.windowMs / limit.bucketMs + 4);
    expect(Number(await ctx.app.redis.memory("USAGE", limit.window))).toBeLessThanOrEqual(MAX_BYTES);
    await ctx.app.redis.del(limit.window);
  }, 60_000);
});

describe("a connection cap (leases)", () => {
  const limit = (): WindowLimit => ({ window: key(), max: 1000, windowMs: 1000, bucketMs: 0, leases: { key: key(), maxConnections: 2 } });

  it("leases max connections, renews one it holds, and frees one given back", async () => {
    const capped = limit();
    expect(await windows.lease(capped, "a", 10_000)).toBe(true);
    expect(await windows.lease(capped, "b", 10_000)).toBe(true);
    expect(await windows.lease(capped, "c", 10_000)).toBe(false);
    expect(await windows.lease(capped, "a", 10_000)).toBe(true);
    await windows.unlease(capped, "a");
    expect(await windows.lease(capped, "c", 10_000)).toBe(true);
  });

  it("lets a crashed worker's lease lapse on its own", async () => {
    const capped = limit();
    expect(await windows.lease(capped, "crashed-1", 150)).toBe(true);
    expect(await windows.lease(capped, "crashed-2", 150)).toBe(true);
    expect(await windows.lease(capped, "next", 10_000)).toBe(false);
    await sleep(170);
    expect(await windows.lease(capped, "next", 10_000)).toBe(true);
  });

  it("has no cap when the limit sets none", async () => {
    const uncapped: WindowLimit = { window: key(), max: 1, windowMs: 1000, bucketMs: 0 };
    expect(await Promise.all([1, 2, 3].map((i) => windows.lease(uncapped, `m${i}`, 1000)))).toEqual([true, true, true]);
  });
});
