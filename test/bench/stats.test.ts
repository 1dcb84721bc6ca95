import { expect, it } from "vitest";
import { rateReading } from "../../bench/support/stats.js";

it("rateReading sorts arrivals first and reports the precision figures relative to N", () => {
  // 11 arrivals 5 ms apart, delivered out of order: 200/s exactly, all in one second.
  const arrivals = Array.from({ length: 11 }, (_, i) => 1000 + i * 5).reverse();
  expect(rateReading(arrivals, 200)).toEqual({ calls: 11, meanOverN: 1, maxWindowOverN: 11 / 200, gapP99Ms: 5 });
});

it("rateReading of fewer than two arrivals has no rate and no gap", () => {
  expect(rateReading([42], 200)).toMatchObject({ calls: 1, meanOverN: 0, maxWindowOverN: 1 / 200 });
  expect(rateReading([42], 200).gapP99Ms).toBeNaN();
});
