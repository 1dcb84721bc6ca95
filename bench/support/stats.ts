/** Measurements over arrival times (ms, ascending). Pure functions, unit-tested in test/bench/stats.test.ts. */

/** Calls per second from the first arrival to the last. */
export function meanRate(arrivals: readonly number[]): number {
  if (arrivals.length < 2) return 0;
  return ((arrivals.length - 1) * 1000) / (arrivals.at(-1)! - arrivals[0]!);
}

/** The most arrivals in any window [t, t + windowMs), over every t. */
export function maxInWindow(arrivals: readonly number[], windowMs = 1000): number {
  let max = 0;
  let start = 0;
  for (let end = 0; end < arrivals.length; end++) {
    while (arrivals[end]! - arrivals[start]! >= windowMs) start++;
    max = Math.max(max, end - start + 1);
  }
  return max;
}

/** Time between consecutive arrivals. */
export function gaps(arrivals: readonly number[]): number[] {
  return arrivals.slice(1).map((at, i) => at - arrivals[i]!);
}

/** Nearest-rank percentile (p in 0..100) of `values`; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export interface RateReading {
  calls: number;
  meanOverN: number;
  maxWindowOverN: number;
  gapP99Ms: number;
}

/** The precision figures of the issue: mean rate / N, largest sliding second / N, p99 gap. */
export function rateReading(arrivals: readonly number[], n: number): RateReading {
  const sorted = Float64Array.from(arrivals).sort() as unknown as number[];
  return {
    calls: sorted.length,
    meanOverN: meanRate(sorted) / n,
    maxWindowOverN: maxInWindow(sorted) / n,
    gapP99Ms: percentile(gaps(sorted), 99),
  };
}
