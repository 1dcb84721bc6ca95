import type { CappingLimits } from "../capping-runtimes.js";
import type { CappedLane, RuntimeKeys, ThrottledLane } from "../keys.js";
import { SLIDING_WINDOW_MS, SPACING_FACTOR } from "../dispatch/pacer.js";
import { bucketMsFor, type WindowLimit } from "../../shared/sliding-window.js";

/**
 * A capping window is this much longer than its period: the time between a send's check and its arrival at the
 * endpoint (a send that leaves later than that is re-logged at its real time). Costs 2 % of a 1 s period's rate.
 */
export const CAPPING_MARGIN_MS = 20;

const windowMsOf = (limits: CappingLimits): number => limits.periodInMs + CAPPING_MARGIN_MS;

/** The limit a capped lane's calls (and the capped calls of other configs it matches) obey (CONTRACT §12). */
export function cappingLimit(keys: RuntimeKeys, lane: CappedLane, limits: CappingLimits, buckets: number): WindowLimit {
  const windowMs = windowMsOf(limits);
  return {
    window: keys.window(lane),
    max: limits.maxCallsCount,
    windowMs,
    bucketMs: bucketMsFor(limits.maxCallsCount, windowMs, buckets),
    ...(limits.maxHttpConnections ? { leases: { key: keys.leases(lane), maxConnections: limits.maxHttpConnections } } : {}),
  };
}

/**
 * The calls per second a capped lane is paced to: its slots are spaced evenly, a window's length (and a bucket's,
 * which a bucketed window may count on top) over its count apart, so that under a backlog every sliding period
 * holds its count less the margin rather than a burst followed by silence, and the window's check rarely refuses.
 * The pacer widens slots by SPACING_FACTOR, which this undoes.
 */
export function cappingRate(limits: CappingLimits, buckets: number): number {
  const windowMs = windowMsOf(limits);
  return (1000 * SPACING_FACTOR * limits.maxCallsCount) / (windowMs + bucketMsFor(limits.maxCallsCount, windowMs, buckets));
}

/** The hard limit of a throttling version (its send log, as the pacer checks it) that a capped call also obeys. */
export const throttlingLimit = (keys: RuntimeKeys, lane: ThrottledLane, maxThroughput: number): WindowLimit => ({
  window: keys.sendLog(lane.runtimeVersionId),
  max: maxThroughput,
  windowMs: SLIDING_WINDOW_MS,
  bucketMs: 0,
});
