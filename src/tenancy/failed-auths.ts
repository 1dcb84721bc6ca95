import type { RuntimeKeys } from "../runtime/keys.js";
import { ApiError } from "../shared/errors/api-error.js";
import type { Logger } from "../shared/logger.js";
import type { SlidingWindows } from "../shared/sliding-window.js";
import { LIMIT_WINDOW_MS, takeUnlessDown } from "./request-limits.js";

/** Addresses refused at once, past which expired ones are swept; past MAX_REFUSED, the oldest are let go. */
const SWEEP_AT = 10_000;
const MAX_REFUSED = 100_000;

/**
 * CONTRACT §7: failed authentications per client address in a sliding minute, counted in Redis across replicas.
 * An address past its limit is refused from memory, before any lookup: the replica that counted its last failure
 * knows at once, any other replica from that address' next failure there.
 */
export class FailedAuths {
  /** Address → until when it is refused (ms). */
  private readonly refused = new Map<string, number>();

  constructor(private readonly deps: { windows: SlidingWindows; keys: RuntimeKeys; perMinute: number; logger: Logger }) {}

  /** 429 ERR_RATE_LIMITED with Retry-After while `address` is past its failed authentications. */
  refuseIfOver(address: string): void {
    const until = this.refused.get(address);
    if (until === undefined) return;
    const waitMs = until - Date.now();
    if (waitMs <= 0) {
      this.refused.delete(address);
      return;
    }
    throw new ApiError("AUTH_RATE_LIMITED", { headers: { "Retry-After": String(Math.max(1, Math.ceil(waitMs / 1000))) } });
  }

  async record(address: string): Promise<void> {
    const limit = { window: this.deps.keys.failedAuths(address), max: this.deps.perMinute, windowMs: LIMIT_WINDOW_MS, bucketMs: 0 };
    const outcome = await takeUnlessDown(this.deps.windows, limit, (error) =>
      this.deps.logger.warn({ err: error }, "failed authentication not counted: Redis could not be reached"),
    );
    const waitMs = !outcome ? 0 : "taken" in outcome ? outcome.taken.freesInMs : outcome.waitMs;
    if (waitMs > 0) this.refuse(address, waitMs);
  }

  private refuse(address: string, waitMs: number): void {
    if (this.refused.size >= SWEEP_AT) {
      const now = Date.now();
      for (const [known, until] of this.refused) if (until <= now) this.refused.delete(known);
      for (const known of this.refused.keys()) {
        if (this.refused.size < MAX_REFUSED) break;
        this.refused.delete(known);
      }
    }
    this.refused.set(address, Date.now() + waitMs);
  }
}
