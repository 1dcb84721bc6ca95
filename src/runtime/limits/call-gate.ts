import { setTimeout as sleep } from "node:timers/promises";
import type { CappedLane, ThrottledLane } from "../keys.js";
import type { SlidingWindows, Taken, WindowLimit } from "../../shared/sliding-window.js";

/** The limit in force for a lane, as the worker last read it; undefined once its runtime is gone or drained. */
export type LimitsOf = (lane: ThrottledLane | CappedLane) => WindowLimit | undefined;

/** How often a call waiting for a connection looks again (with as much jitter, so waiting calls do not fall in step). */
const LEASE_POLL_MS = 20;

/**
 * A capped call's limits (CONTRACT §12): its own capping config's, every other capping config that matched it, and
 * the throttling version that matched it. Each lives in its own slot, so they are taken one script at a time, and a
 * limit that refuses gives back what the others gave: a send goes only with a place in every window and a
 * connection under every cap.
 */
export class CallGate {
  constructor(
    private readonly windows: SlidingWindows,
    readonly limitsOf: LimitsOf,
  ) {}

  /** The limits in force among these lanes'. */
  limits(lanes: readonly (ThrottledLane | CappedLane)[]): WindowLimit[] {
    return lanes.map(this.limitsOf).filter((limit) => limit !== undefined);
  }

  /** Waits until every cap leases a connection to `member` (for `leaseMs`); false, holding none, once `stop()`. */
  async lease(limits: readonly WindowLimit[], member: string, leaseMs: number, stop: () => boolean): Promise<boolean> {
    while (!stop()) {
      if (await this.leaseAll(limits, member, leaseMs)) return true;
      await sleep(LEASE_POLL_MS * (1 + Math.random()));
    }
    return false;
  }

  /** One try at leasing (or renewing) a connection under every cap; on a full one, gives back the others. */
  async leaseAll(limits: readonly WindowLimit[], member: string, leaseMs: number): Promise<boolean> {
    for (const [i, limit] of limits.entries()) {
      if (!(await this.windows.lease(limit, member, leaseMs))) {
        await this.unlease(limits.slice(0, i), member);
        return false;
      }
    }
    return true;
  }

  /**
   * Runs `wait` (for a slot, for a place in a window: with a daily limit, hours) while renewing `member`'s
   * connection leases, so they last as long as the call waits in a live worker and lapse soon after a crash.
   */
  async renewing<T>(limits: readonly WindowLimit[], member: string, leaseMs: number, wait: () => Promise<T>): Promise<T> {
    if (!limits.some((limit) => limit.leases)) return wait();
    const renew = setInterval(() => void this.leaseAll(limits, member, leaseMs).catch(() => undefined), leaseMs / 3);
    try {
      return await wait();
    } finally {
      clearInterval(renew);
    }
  }

  async unlease(limits: readonly WindowLimit[], member: string): Promise<void> {
    await Promise.all(limits.map((limit) => this.windows.unlease(limit, member)));
  }

  /** Takes a place for `member` in every window, or gives back those taken and says how long until one frees. */
  async take(limits: readonly WindowLimit[], member: string): Promise<{ taken: Taken[] } | { waitMs: number }> {
    const taken: Taken[] = [];
    for (const limit of limits) {
      const result = await this.windows.take(limit, member);
      if ("waitMs" in result) {
        await this.untake(limits, member, taken);
        return result;
      }
      taken.push(result.taken);
    }
    return { taken };
  }

  /** Gives back the places `taken` in the first windows of `limits`. */
  async untake(limits: readonly WindowLimit[], member: string, taken: readonly Taken[]): Promise<void> {
    await Promise.all(taken.map((place, i) => this.windows.untake(limits[i]!, member, place)));
  }

  async restamp(limits: readonly WindowLimit[], member: string, lateMs: number): Promise<void> {
    await Promise.all(limits.map((limit) => this.windows.restamp(limit, member, lateMs)));
  }
}
