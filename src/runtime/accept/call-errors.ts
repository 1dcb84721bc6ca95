import type { z } from "zod";
import { ApiError } from "../../shared/errors/api-error.js";

/** A batch carries up to 1000 calls of up to 1 MB each; the request as a whole may be larger than 1 MB. */
export const BATCH_BODY_LIMIT = "32mb";

/** ERR_CALL_INVALID: `context` says what is wrong; `errors` (when given) lists each problem by path. */
export const invalidCall = (context: string, errors: { path: string; message: string }[] = []) =>
  new ApiError("CALL_INVALID", { context, body: errors.length ? { errors } : {} });

export interface CallProblem {
  /** The offending field, dotted (`calls.1.url`); `body` for the request body itself. */
  path: string;
  message: string;
}

/** How many problems `context` spells out; `errors` always lists them all. */
const CONTEXT_PROBLEMS = 10;

/** ERR_CALL_INVALID listing every problem in `errors`, and the first few in `context`. */
export function rejectedCalls(errors: CallProblem[]): ApiError {
  const shown = errors.slice(0, CONTEXT_PROBLEMS).map((e) => `${e.path}: ${e.message}`);
  if (errors.length > CONTEXT_PROBLEMS) shown.push(`and ${errors.length - CONTEXT_PROBLEMS} more (see errors)`);
  return invalidCall(shown.join("; "), errors);
}

/** The call API's answer to a body its zod schema rejects: every issue. */
export function rejectedCallBody(issues: readonly z.core.$ZodIssue[]): ApiError {
  return rejectedCalls(issues.map((issue) => ({ path: issue.path.join(".") || "body", message: issue.message })));
}

/** Seconds a submission refused for a full queue is told to wait. */
const RETRY_AFTER_FULL_SECONDS = "30";

/** ERR_QUEUE_FULL (CONTRACT §6, §11): the submission would take the org past one of its bounds; nothing was queued. */
export const queueFull = (bound: { setting: string; max: number; unit: string }) =>
  new ApiError("QUEUE_FULL", {
    context: `the submission would take the organization past ${bound.setting} (${bound.max} ${bound.unit})`,
    headers: { "Retry-After": RETRY_AFTER_FULL_SECONDS },
  });

export const malformedCallJson = (detail: string) => invalidCall(`malformed JSON: ${detail}`);

export const invalidIdempotencyKey = () => invalidCall("Idempotency-Key must be 1–255 characters");
