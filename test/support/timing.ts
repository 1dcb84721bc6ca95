import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";

/** Wall-clock milliseconds with sub-millisecond resolution; the clock the sink stamps arrivals with. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

function assertSortedAscending(times: readonly number[]): void {
  for (let i = 1; i < times.length; i++) {
    if (times[i]! < times[i - 1]!) {
      throw new RangeError(`timestamps must be sorted ascending (index ${i} is smaller than index ${i - 1})`);
    }
  }
}

/** Largest number of timestamps in any half-open window [t, t + windowMs). `times` must be sorted. */
export function maxInSlidingWindow(times: readonly number[], windowMs = 1000): number {
  if (!(windowMs > 0)) throw new RangeError(`windowMs must be positive, got ${windowMs}`);
  assertSortedAscending(times);
  // The busiest window can always be slid right until it starts on a timestamp, so only those starts matter.
  let best = 0;
  let end = 0;
  for (let start = 0; start < times.length; start++) {
    const limit = times[start]! + windowMs;
    while (end < times.length && times[end]! < limit) end++;
    best = Math.max(best, end - start);
  }
  return best;
}

/** Number of timestamps in the half-open interval [from, to). */
export function countInWindow(times: readonly number[], from: number, to: number): number {
  let count = 0;
  for (const t of times) if (t >= from && t < to) count++;
  return count;
}

/** Number of timestamps in [atMs, atMs + windowMs). */
export function rateAround(times: readonly number[], atMs: number, windowMs = 1000): number {
  return countInWindow(times, atMs, atMs + windowMs);
}

/** Last minus first; 0 for fewer than two timestamps. `times` must be sorted. */
export function spanMs(times: readonly number[]): number {
  assertSortedAscending(times);
  return times.length < 2 ? 0 : times[times.length - 1]! - times[0]!;
}

/**
 * Average rate over the span: (n - 1) intervals per span, per second (600 timestamps 5 ms apart give 200).
 * 0 for fewer than two timestamps, Infinity when they all coincide. `times` must be sorted.
 */
export function meanRatePerSecond(times: readonly number[]): number {
  if (times.length < 2) return 0;
  return ((times.length - 1) * 1000) / spanMs(times);
}

/** Differences between consecutive timestamps. `times` must be sorted. */
export function gapsMs(times: readonly number[]): number[] {
  assertSortedAscending(times);
  const gaps: number[] = [];
  for (let i = 1; i < times.length; i++) gaps.push(times[i]! - times[i - 1]!);
  return gaps;
}

/** Nearest-rank percentile (p in [0, 100]) of unsorted values; p = 0 is the minimum, p = 100 the maximum. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError("percentile of an empty list");
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within [0, 100], got ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

export interface WaitForOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Describes what was awaited; it ends up in the timeout error. */
  message?: string;
}

/** Polls `predicate` until it holds; rejects after `timeoutMs`. */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  { timeoutMs, intervalMs = 20, message = "condition" }: WaitForOptions,
): Promise<void> {
  const deadline = preciseNow() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    const remaining = deadline - preciseNow();
    if (remaining <= 0) throw new Error(`waitFor timed out after ${timeoutMs} ms: ${message}`);
    await sleep(Math.min(intervalMs, remaining));
  }
}

/** A time the instrument (the sink) did not run, during which it could not stamp arrivals (ms since epoch). */
export interface InstrumentStall {
  from: number;
  to: number;
}

/**
 * What a stalling instrument can vouch for. A stall of d ms stamps what arrived during it up to d ms late, so its
 * arrivals can look bunched with later ones: a cap is checked over windows shortened by the longest stall, and a
 * count that should reach a floor over [from, to) is forgiven what the stalls inside it may have pushed out
 * (`ratePerSecond` × their length). With no stall both are the plain measures.
 */
export function stallAware(stalls: readonly InstrumentStall[]) {
  const longestMs = Math.max(0, ...stalls.map((stall) => stall.to - stall.from));
  const stalledMs = (from: number, to: number) =>
    stalls.reduce((sum, stall) => sum + Math.max(0, Math.min(stall.to, to) - Math.max(stall.from, from)), 0);
  return {
    longestMs,
    stalledMs,
    /** The most timestamps in any window of `windowMs` less the longest stall. */
    maxInWindow: (times: readonly number[], windowMs = 1000) => maxInSlidingWindow(times, windowMs - longestMs),
    /** Timestamps in [from + longest stall, to): an upper-bound count the stalls cannot inflate. */
    countAtMost: (times: readonly number[], from: number, to: number) => countInWindow(times, from + longestMs, to),
    /** `floor` less what stalls within [from, to) may have moved out of it at `ratePerSecond`. */
    floor: (floor: number, ratePerSecond: number, from: number, to: number) => floor - (ratePerSecond * stalledMs(from, to)) / 1000,
  };
}
