import { describe, expect, it } from "vitest";
import { gaps, maxInWindow, meanRate, percentile, rateReading } from "../../bench/support/stats.js";

describe("benchmark statistics", () => {
  it("meanRate: arrivals − 1 over the first-to-last span", () => {
    expect(meanRate([0, 5, 10, 15, 20])).toBe(200);
    expect(meanRate([7])).toBe(0);
  });

  it("maxInWindow counts half-open windows [t, t + 1000)", () => {
    expect(maxInWindow([0, 1000])).toBe(1);
    expect(maxInWindow([0, 999, 1000, 1500])).toBe(3);
    expect(maxInWindow([0, 100, 200, 1099, 1100, 1199])).toBe(4);
    expect(maxInWindow([])).toBe(0);
  });

  it("gaps and nearest-rank percentiles", () => {
    expect(gaps([0, 2, 5, 11])).toEqual([2, 3, 6]);
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile([], 50)).toBeNaN();
  });

  it("rateReading sorts arrivals first and reports the precision figures relative to N", () => {
    // 11 arrivals 5 ms apart, delivered out of order: 200/s exactly, all in one second.
    const arrivals = Array.from({ length: 11 }, (_, i) => 1000 + i * 5).reverse();
    expect(rateReading(arrivals, 200)).toEqual({ calls: 11, meanOverN: 1, maxWindowOverN: 11 / 200, gapP99Ms: 5 });
  });
});
