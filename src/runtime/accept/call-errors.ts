import type { z } from "zod";
import { ApiError } from "../../shared/errors/api-error.js";

/** A batch carries up to 1000 calls of up to 1 MB each; the request as a whole may be larger than 1 MB. */
export const BATCH_BODY_LIMIT = "32mb";

/** ERR_CALL_INVALID: `context` says what is wrong; `errors` (when given) lists each problem by path. */
export const invalidCall = (context: string, errors: { path: string; message: string }[] = []) =>
  new ApiError("CALL_INVALID", { context, body: errors.length ? { errors } : {} });

/** The call API's answer to a body its zod schema rejects: every issue, in `context` and in `errors`. */
export function rejectedCallBody(issues: readonly z.core.$ZodIssue[]): ApiError {
  const errors = issues.map((issue) => ({ path: issue.path.join(".") || "body", message: issue.message }));
  return invalidCall(errors.map((e) => `${e.path}: ${e.message}`).join("; "), errors);
}

export const malformedCallJson = (detail: string) => invalidCall(`malformed JSON: ${detail}`);

export const invalidIdempotencyKey = () => invalidCall("Idempotency-Key must be 1–255 characters");
