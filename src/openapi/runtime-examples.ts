import type { AcceptedCall, CallRecord } from "../runtime/accept/call.schema.js";
import { EXAMPLE_UID } from "./examples.js";

// Example values for the call API (CONTRACT §6), consistent with the deployed config of examples.ts.

export const EXAMPLE_CALL_ID = "3b9e4c1a-7d52-4f0e-9a61-2c8d5e7f1b04";
const SECOND_CALL_ID = "a6f2d8e0-51c4-4b7a-8e3d-9f0c1b2a7e65";
export const EXAMPLE_IDEMPOTENCY_KEY = "order-4711-confirmation";

/** Matches the deployed config's `urlPattern` (`https://api.example.org/data/2.5/*`) and its method (POST). */
export const throttledCall = {
  method: "POST",
  url: "https://api.example.org/data/2.5/items",
  headers: { Authorization: "Bearer <the target's own token>" },
  body: { orderId: 4711, status: "confirmed" },
  timeoutMs: 10_000,
  callbackUrl: "https://hooks.example.com/sluice/calls",
};

/** Matches no deployed config: sent without throttling, tracked the same way. */
export const unthrottledCall = { method: "GET", url: "https://status.example.net/ping" };

const throttledAcceptance = { throttled: true, throttlingConfigUid: EXAMPLE_UID, runtimeVersion: 1 } as const;

export const acceptedThrottled: AcceptedCall = { callId: EXAMPLE_CALL_ID, state: "queued", ...throttledAcceptance };
export const acceptedUnthrottled: AcceptedCall = { callId: SECOND_CALL_ID, state: "queued", throttled: false };

const acceptedAt = "2023-03-22T12:00:00.000Z";
const queuedRecord: CallRecord = {
  ...acceptedThrottled,
  method: "POST",
  url: throttledCall.url,
  attempts: 0,
  acceptedAt,
  waitMs: 850,
};

export const callRecords: Record<string, { summary: string; value: CallRecord }> = {
  queued: { summary: "Waiting for its rate slot", value: queuedRecord },
  succeeded: {
    summary: "Sent and answered 2xx",
    value: {
      ...queuedRecord,
      state: "succeeded",
      attempts: 1,
      sentAt: "2023-03-22T12:00:00.412Z",
      completedAt: "2023-03-22T12:00:00.530Z",
      waitMs: 412,
      response: { status: 201, headers: { "content-type": "application/json" }, bodyPreview: '{"id":"item-4711"}' },
      callback: { state: "delivered", attempts: 1, lastStatus: 204 },
    },
  },
  failed: {
    summary: "Every attempt answered 500 (1 send + 3 retries)",
    value: {
      ...queuedRecord,
      state: "failed",
      attempts: 4,
      sentAt: "2023-03-22T12:00:00.412Z",
      completedAt: "2023-03-22T12:00:03.902Z",
      waitMs: 412,
      response: { status: 500, headers: { "content-type": "text/plain" }, bodyPreview: "upstream error" },
      error: "HTTP 500",
      callback: { state: "pending", attempts: 2, lastStatus: 503 },
    },
  },
  expired: {
    summary: "Not sent within the 6 h queue retention",
    value: {
      ...queuedRecord,
      state: "expired",
      completedAt: "2023-03-22T18:00:00.000Z",
      waitMs: 21_600_000,
      error: "not sent within the queue retention (6 h)",
    },
  },
};

/** A failed call sent again (`POST /runtime/calls/{callId}/replay`): a new call naming the one it replays. */
export const acceptedReplay: AcceptedCall = { ...acceptedThrottled, callId: SECOND_CALL_ID, replayOf: EXAMPLE_CALL_ID };

/** An `Idempotency-Key` replay answers the original callId with the call's current state. */
export const replayedSucceeded: AcceptedCall = { ...acceptedThrottled, state: "succeeded" };
