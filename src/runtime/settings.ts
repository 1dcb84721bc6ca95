import type { Env } from "../config/env.js";

const HOUR = 60 * 60 * 1000;
/** Fixed for users (seed: "queued for up to 6 hours. This value cannot be modified."). */
export const RETENTION_MS = 6 * HOUR;
/** Fixed for users (seed: "pending events continue to be processed during 24 hours"). */
export const DRAIN_MS = 24 * HOUR;
/** A finished call's record stays readable this long (CONTRACT §6). */
export const RECORD_TTL_MS = 24 * HOUR;
/** CONTRACT §10: a callback is retried from 5 s, doubling. */
export const CALLBACK_RETRY_BASE_MS = 5000;

export interface RuntimeSettings {
  retentionMs: number;
  drainMs: number;
  maxQueuedPerOrg: number;
  maxQueuedBytesPerOrg: number;
  concurrency: number;
  lockMs: number;
  /** Buckets per period of a large capping window (see SlidingWindows). */
  cappingBuckets: number;
  /** The first callback retry's delay (CONTRACT §10: 5 s). */
  callbackRetryBaseMs: number;
}

export function runtimeSettings(env: Env): RuntimeSettings {
  const test = env.NODE_ENV === "test";
  return {
    retentionMs: (test && env.SLUICE_TEST_RETENTION_MS) || RETENTION_MS,
    drainMs: (test && env.SLUICE_TEST_DRAIN_MS) || DRAIN_MS,
    maxQueuedPerOrg: env.RUNTIME_MAX_QUEUED_PER_ORG,
    maxQueuedBytesPerOrg: env.RUNTIME_MAX_QUEUED_BYTES_PER_ORG,
    concurrency: env.RUNTIME_CONCURRENCY,
    lockMs: env.RUNTIME_LOCK_MS,
    cappingBuckets: env.CAPPING_WINDOW_BUCKETS,
    callbackRetryBaseMs: (test && env.SLUICE_TEST_CALLBACK_RETRY_MS) || CALLBACK_RETRY_BASE_MS,
  };
}
