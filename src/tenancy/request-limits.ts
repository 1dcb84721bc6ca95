import { randomUUID } from "node:crypto";
import type { Response } from "express";
import type { RuntimeKeys } from "../runtime/keys.js";
import { withDeadline } from "../shared/deadline.js";
import { ApiError } from "../shared/errors/api-error.js";
import type { Logger } from "../shared/logger.js";
import type { SlidingWindows, WindowLimit } from "../shared/sliding-window.js";
import { ceilingOf, type LimitClass, type OrgLimitTerms } from "./api-limits.js";

export const LIMIT_WINDOW_MS = 60_000;
/**
 * Ceilings up to this are kept exactly (a log of request times, at most about 350 KB); past it, in 100 ms buckets,
 * the oldest counted whole: never over, and at most 100 ms late to free a place.
 */
const EXACT_UP_TO = 5_000;
const BUCKET_MS = 100;
/** A slow Redis must not hold up the API: past this the request goes through unlimited (and says so in the log). */
const REDIS_DEADLINE_MS = 500;

const seconds = (ms: number) => Math.ceil(ms / 1000);

/**
 * A request's place in `limit`'s window, or undefined when Redis does not answer within 500 ms (`onDown` is told):
 * a limit Sluice cannot count lets the request through rather than failing it.
 */
export async function takeUnlessDown(
  windows: SlidingWindows,
  limit: WindowLimit,
  onDown: (error: unknown) => void,
): Promise<Awaited<ReturnType<SlidingWindows["take"]>> | undefined> {
  try {
    return await withDeadline(windows.take(limit, randomUUID()), REDIS_DEADLINE_MS);
  } catch (error) {
    onDown(error);
    return undefined;
  }
}

/**
 * CONTRACT §7: each org's requests per endpoint class in a sliding 60 s window shared by every API replica (one
 * script in the window's own slot per request), and the five headers on the response whatever it turns out to be.
 */
export class RequestLimits {
  constructor(private readonly deps: { windows: SlidingWindows; keys: RuntimeKeys; logger: Logger }) {}

  /** Counts this request against the org's ceiling for `limitClass`, or refuses it with 429 ERR_RATE_LIMITED. */
  async admit(res: Response, orgId: string, terms: OrgLimitTerms, limitClass: LimitClass): Promise<void> {
    const max = ceilingOf(terms, limitClass);
    const bucketMs = max <= EXACT_UP_TO ? 0 : BUCKET_MS;
    const limit: WindowLimit = { window: this.deps.keys.apiRequests(orgId, limitClass, bucketMs), max, windowMs: LIMIT_WINDOW_MS, bucketMs };
    const outcome = await takeUnlessDown(this.deps.windows, limit, (error) =>
      this.deps.logger.warn({ err: error, orgId, limitClass }, "API limit not applied: Redis could not be reached"),
    );
    if (!outcome) return;
    const [left, freesInMs] = "taken" in outcome ? [Math.max(0, outcome.taken.left), outcome.taken.freesInMs] : [0, outcome.waitMs];
    res.set({
      "X-RateLimit-Limit": String(max),
      "X-RateLimit-Remaining": String(left),
      "X-RateLimit-Reset": String(seconds(Date.now() + freesInMs)),
      "RateLimit-Policy": `"${limitClass}";q=${max};w=${LIMIT_WINDOW_MS / 1000}`,
      RateLimit: `"${limitClass}";r=${left};t=${seconds(freesInMs)}`,
    });
    if ("waitMs" in outcome) {
      throw new ApiError("RATE_LIMITED", {
        context: `${limitClass}: ${max} requests per minute`,
        headers: { "Retry-After": String(Math.max(1, seconds(outcome.waitMs))) },
      });
    }
  }
}
