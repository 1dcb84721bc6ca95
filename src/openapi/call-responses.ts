import type { ResponseConfig } from "@asteasolutions/zod-to-openapi";
import type { z } from "zod";
import { DEFAULT_MAX_QUEUED_BYTES_PER_ORG, DEFAULT_MAX_QUEUED_PER_ORG } from "../config/defaults.js";
import { EgressPolicy } from "../egress/policy.js";
import { invalidIdempotencyKey, malformedCallJson, queueFull, rejectedCallBody, rejectedCalls } from "../runtime/accept/call-errors.js";
import { callInvalidEnvelope } from "./error-envelope.schema.js";
import type { ErrorCase, ExampleRequest } from "./error-examples.js";
import { errorResponse, knownError, type ErrorStatus } from "./responses.js";

// The documented error responses of the call API's operations (src/runtime/accept/call.operations.ts), with
// examples built by the code that raises them.

/**
 * `ERR_CALL_INVALID` as the call router raises it for a body or query `schema` rejects: `context` lists every issue
 * and `errors` holds them. The real zod schema finds the issues.
 */
export function rejectedInput(key: string, summary: string, request: ExampleRequest, schema: z.ZodType, input: unknown): ErrorCase {
  const result = schema.safeParse(input);
  if (result.success) throw new Error(`example input is valid: ${JSON.stringify(input)}`);
  return { key, summary, request, error: rejectedCallBody(result.error.issues) };
}

const invalidHeader = (request: ExampleRequest): ErrorCase => ({
  key: "INVALID_IDEMPOTENCY_KEY",
  summary: "The Idempotency-Key header is empty or longer than 255 characters",
  request,
  error: invalidIdempotencyKey(),
});

/** CONTRACT §9: what the default egress policy answers a call to the cloud metadata address. */
const METADATA_URL = "http://169.254.169.254/latest/meta-data/";
export const egressDenied = (request: ExampleRequest, path: string): ErrorCase => ({
  key: "EGRESS_DENIED",
  summary: "The URL's host is an IP address (or localhost) the egress policy denies",
  request,
  error: rejectedCalls([{ path, message: new EgressPolicy().refusal(new URL(METADATA_URL))! }]),
});

const malformedJson = (request: ExampleRequest): ErrorCase => ({
  key: "MALFORMED_JSON",
  summary: "The body is not JSON",
  request,
  error: malformedCallJson("Expected property name or '}' in JSON at position 1"),
});

export const queueFullOfCalls = (request: ExampleRequest): ErrorCase => ({
  key: "QUEUE_FULL_CALLS",
  request,
  error: queueFull({ setting: "RUNTIME_MAX_QUEUED_PER_ORG", max: DEFAULT_MAX_QUEUED_PER_ORG, unit: "calls" }),
});

/** What every call API operation can answer besides its success and its own errors. */
export function commonErrors(request: ExampleRequest): Partial<Record<ErrorStatus, ResponseConfig>> {
  return {
    401: errorResponse(401, [knownError("UNAUTHORIZED", request)]),
    403: errorResponse(403, [knownError("ORG_MISMATCH", request)]),
    500: errorResponse(500, [knownError("INTERNAL", request)], { headline: "The request failed unexpectedly." }),
    503: errorResponse(503, [knownError("DEPENDENCY_UNAVAILABLE", request)]),
  };
}

/** The errors of a submission (one call or a batch): invalid, conflicting, too large, or over the org's queue bound. */
export function submissionErrors(request: ExampleRequest, invalid: ErrorCase[], tooLarge: ErrorCase[]): Partial<Record<ErrorStatus, ResponseConfig>> {
  return {
    400: errorResponse(400, [...invalid, malformedJson(request), invalidHeader(request)], {
      schema: callInvalidEnvelope,
      headline: "The request was rejected. An invalid body also gets `errors`, listing every problem.",
    }),
    ...commonErrors(request),
    409: errorResponse(409, [
      knownError("IDEMPOTENCY_MISMATCH", request, { context: "the key was first used for 2 call(s)" }),
    ]),
    413: errorResponse(413, tooLarge, { headline: "The request, or a call's body, is too large." }),
    415: errorResponse(415, [knownError("UNSUPPORTED_MEDIA_TYPE", request)]),
    429: errorResponse(
      429,
      [
        queueFullOfCalls(request),
        { key: "QUEUE_FULL_BYTES", request, error: queueFull({ setting: "RUNTIME_MAX_QUEUED_BYTES_PER_ORG", max: DEFAULT_MAX_QUEUED_BYTES_PER_ORG, unit: "bytes" }) },
      ],
      {
        headline:
          "The organization's queued calls, or their bytes (method, URL, headers and body), would exceed its bound: " +
          "nothing was queued. Retry after `Retry-After` seconds.",
      },
    ),
  };
}
