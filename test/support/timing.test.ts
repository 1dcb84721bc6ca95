import { describe, expect, it } from "vitest";
import { stallAware } from "./timing.js";

// 200 evenly spaced arrivals per second, 5 ms apart, from t = 0.
const even = (count: number, fromMs = 0) => Array.from({ length: count }, (_, i) => fromMs + i * 5);

describe("stallAware: what a stalling sink can vouch for", () => {
  it("without stalls, the plain sliding window and counts", () => {
    const measured = stallAware([]);
    expect(measured.longestMs).toBe(0);
    expect(measured.maxInWindow(even(600))).toBe(200);
    expect(measured.countAtMost(even(600), 0, 1000)).toBe(200);
    expect(measured.floor(180, 200, 0, 1000)).toBe(180);
  });

  it("a 30 ms stall that stamped six arrivals late at its end: the cap window is 970 ms, and 200/s still passes", () => {
    // Arrivals due at 500..525 ms were stamped at 530 ms, when the sink ran again.
    const times = even(600).map((t) => (t >= 500 && t < 530 ? 530 : t)).sort((a, b) => a - b);
    const measured = stallAware([{ from: 500, to: 530 }]);
    expect(measured.longestMs).toBe(30);
    expect(measured.maxInWindow(times)).toBeLessThanOrEqual(200);
  });

  it("still catches a sender that overshoots by more than the stall explains", () => {
    const measured = stallAware([{ from: 500, to: 520 }]);
    expect(measured.maxInWindow(even(1200).map((t) => t / 2))).toBeGreaterThan(200);
  });

  it("forgives a floor what stalls inside its window may have pushed out, at the given rate", () => {
    const measured = stallAware([{ from: 100, to: 150 }, { from: 900, to: 1100 }]);
    expect(measured.stalledMs(0, 1000)).toBe(150);
    expect(measured.floor(180, 200, 0, 1000)).toBe(150);
    expect(measured.floor(180, 200, 2000, 3000)).toBe(180);
  });
});
