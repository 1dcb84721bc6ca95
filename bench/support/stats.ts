import { gapsMs, maxInSlidingWindow, meanRatePerSecond, percentile } from "../../test/support/timing.js";

export interface RateReading {
  calls: number;
  meanOverN: number;
  maxWindowOverN: number;
  gapP99Ms: number;
}

/**
 * The precision figures of the issue, from arrival times in any order: mean rate / N, largest sliding second / N,
 * and the p99 gap between consecutive arrivals. Built on the timing tests' own measures (test/support/timing.ts).
 */
export function rateReading(arrivals: readonly number[], n: number): RateReading {
  const sorted = [...arrivals].sort((a, b) => a - b);
  return {
    calls: sorted.length,
    meanOverN: meanRatePerSecond(sorted) / n,
    maxWindowOverN: maxInSlidingWindow(sorted) / n,
    gapP99Ms: sorted.length < 2 ? Number.NaN : percentile(gapsMs(sorted), 99),
  };
}
