import type { OpenAPIRegistry, ResponseConfig, RouteConfig } from "@asteasolutions/zod-to-openapi";
import type { z } from "zod";
import { DEFAULT_MAX_QUEUED_BYTES_PER_ORG, DEFAULT_MAX_QUEUED_PER_ORG } from "../config/defaults.js";
import { EgressPolicy } from "../egress/policy.js";
import { BATCH_BODY_LIMIT, invalidIdempotencyKey, malformedCallJson, queueFull, rejectedCallBody, rejectedCalls } from "../runtime/accept/call-errors.js";
import { RUNTIME_BASE_PATH } from "../runtime/accept/call.routes.js";
import {
  acceptedCall,
  batchRequest,
  batchResponse,
  callList,
  callListQuery,
  callRecord,
  callRequest,
  MAX_BATCH,
  MAX_LIST_LIMIT,
} from "../runtime/accept/call.schema.js";
import { decodeCursor, encodeCursor } from "../runtime/accept/list-cursor.js";
import { tooLargeMessage } from "../http/middleware/json-body.js";
import { parameterRef } from "./components.js";
import { callInvalidEnvelope } from "./error-envelope.schema.js";
import type { ErrorCase, ExampleRequest } from "./error-examples.js";
import { errorResponse, example, jsonResponse, knownError, type ErrorStatus } from "./responses.js";
import {
  EXAMPLE_CALL_ID,
  acceptedThrottled,
  acceptedReplay,
  acceptedUnthrottled,
  callRecords,
  replayedSucceeded,
  throttledCall,
  unthrottledCall,
} from "./runtime-examples.js";

export const RUNTIME_TAG = "Runtime calls";

const CALLS_PATH = `${RUNTIME_BASE_PATH}/calls`;
const BATCH_PATH = `${CALLS_PATH}/batch`;
const RECORD_PATH = `${CALLS_PATH}/{callId}`;
const REPLAY_PATH = `${RECORD_PATH}/replay`;

/**
 * `ERR_CALL_INVALID` as the call router raises it for a body `schema` rejects (src/runtime/accept/call.routes.ts):
 * `context` lists every issue and `errors` holds them. The real zod schema finds the issues.
 */
function rejectedBody(key: string, summary: string, request: ExampleRequest, schema: z.ZodType, body: unknown): ErrorCase {
  const result = schema.safeParse(body);
  if (result.success) throw new Error(`example call body is valid: ${JSON.stringify(body)}`);
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
const egressDenied = (request: ExampleRequest, path: string): ErrorCase => ({
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

/** What every call API operation can answer besides its success and its own errors. */
function commonErrors(request: ExampleRequest): Partial<Record<ErrorStatus, ResponseConfig>> {
  return {
    401: errorResponse(401, [knownError("UNAUTHORIZED", request)]),
    403: errorResponse(403, [knownError("ORG_MISMATCH", request)]),
    500: errorResponse(500, [knownError("INTERNAL", request)], { headline: "The request failed unexpectedly." }),
    503: errorResponse(503, [knownError("DEPENDENCY_UNAVAILABLE", request)]),
  };
}

/** The errors of a submission (one call or a batch): invalid, conflicting, too large, or over the org's queue bound. */
function submissionErrors(request: ExampleRequest, invalid: ErrorCase[], tooLarge: ErrorCase[]) {
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
        { key: "QUEUE_FULL_CALLS", request, error: queueFull({ setting: "RUNTIME_MAX_QUEUED_PER_ORG", max: DEFAULT_MAX_QUEUED_PER_ORG, unit: "calls" }) },
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

const SENDING = `A worker sends each call: a throttled call at most \`maxThroughput\` sends in any 1-second window \
(retries included), as close to it as a backlog allows. A 2xx answer is \`succeeded\`; 401, 403 and 404 are \`failed\`, \
and so is a 3xx: redirects are never followed. Any other error is retried up to 3 times within \`timeoutMs\`. A 429 or \
503 pauses the queue without counting an attempt: until \`Retry-After\`, \`RateLimit-Reset\`, \`X-RateLimit-Reset\` or \
\`RateLimit\` says, or for 1 s doubling up to 60 s when none is given. A throttled queue pauses as a whole; unthrottled \
calls pause per organization and origin. Every connection is checked against the egress policy: a host that resolves \
to a denied address ends the call \`failed\` with \`egress_denied: <address>\`. A call not sent within 6 hours becomes \
\`expired\`. Every send carries \`Sluice-Call-Id: <callId>\`, the same on every attempt: sends are at least once, \
so a target can drop duplicates by it. Follow a call with \`GET ${RECORD_PATH}\`, or give a \`callbackUrl\`: its final \
record is POSTed there whatever the end (\`succeeded\`, \`failed\`, \`expired\`, \`dropped\`), at least once, retried from \
5 s doubling to 30 min for 24 h until a 2xx, and signed as Standard Webhooks do (\`webhook-id\` is the callId, \
\`webhook-signature\` one \`v1,\` HMAC-SHA256 per valid secret of the organization, shown by \`sluice org callback-secret\`).`;

const submitHeaders = [parameterRef("OrgId"), parameterRef("OptionalSandboxName"), parameterRef("IdempotencyKey"), parameterRef("RequestId")];

function submitCall(): RouteConfig {
  const request: ExampleRequest = { method: "POST", path: CALLS_PATH };
  return {
    method: "post",
    path: CALLS_PATH,
    operationId: "submitCall",
    summary: "Queue one outbound call",
    description: `A call whose URL and method match the organization's deployed throttling config joins that runtime \
version's throttled queue (\`throttled: true\`); any other call joins the unthrottled queue.\n\n${SENDING}`,
    request: {
      body: {
        required: true,
        content: {
          "application/json": {
            schema: callRequest,
            examples: {
              throttled: example("Matches the deployed config", throttledCall),
              unthrottled: example("Matches no config", unthrottledCall),
            },
          },
        },
      },
    },
    responses: {
      202: jsonResponse("Accepted and queued.", acceptedCall, {
        throttled: example("Throttled by the deployed config", acceptedThrottled),
        unthrottled: example("Unthrottled", acceptedUnthrottled),
        replayed: example("Repeated with the same Idempotency-Key after the call was sent", replayedSucceeded),
      }),
      ...submissionErrors(
        request,
        [
          rejectedBody("INVALID_CALL", "Invalid fields", request, callRequest, {
            method: "FETCH",
            url: "ftp://files.example.org/report",
            timeoutMs: 60_000,
          }),
          rejectedBody("INVALID_HEADERS", "A header the sender sets, and a line break in a value", request, callRequest, {
            method: "POST",
            url: "https://api.example.org/data/2.5/items",
            headers: { Host: "internal.example.org", "X-Trace": "abc\r\nX-Injected: 1" },
          }),
          rejectedBody("TOO_DEEP", "A body nested deeper than 64 levels", request, callRequest, {
            method: "POST",
            url: "https://api.example.org/data/2.5/items",
            body: JSON.parse(`${"[".repeat(65)}${"]".repeat(65)}`) as unknown,
          }),
          egressDenied(request, "url"),
        ],
        [knownError("PAYLOAD_TOO_LARGE", request)],
      ),
    },
  };
}

function submitBatch(): RouteConfig {
  const request: ExampleRequest = { method: "POST", path: BATCH_PATH };
  return {
    method: "post",
    path: BATCH_PATH,
    operationId: "submitCallBatch",
    summary: `Queue up to ${MAX_BATCH} outbound calls`,
    description: `Each call is matched and queued as by \`POST ${CALLS_PATH}\`. The batch is accepted as a whole or \
not at all; \`calls\` answers in request order. The request may be up to 32 MB, each call's body up to 1 MB.\n\n${SENDING}`,
    request: {
      body: {
        required: true,
        content: {
          "application/json": {
            schema: batchRequest,
            examples: { mixed: example("One throttled call, one unthrottled", { calls: [throttledCall, unthrottledCall] }) },
          },
        },
      },
    },
    responses: {
      202: jsonResponse("Accepted and queued, in request order.", batchResponse, {
        mixed: example("One throttled call, one unthrottled", { calls: [acceptedThrottled, acceptedUnthrottled] }),
      }),
      ...submissionErrors(
        request,
        [
          rejectedBody("EMPTY_BATCH", "No calls", request, batchRequest, { calls: [] }),
          rejectedBody("INVALID_CALL_IN_BATCH", "An invalid call in the batch", request, batchRequest, {
            calls: [throttledCall, { ...unthrottledCall, url: "status.example.net/ping" }],
          }),
          egressDenied(request, "calls.1.url"),
        ],
        [
          { ...knownError("PAYLOAD_TOO_LARGE", request, { message: tooLargeMessage(BATCH_BODY_LIMIT) }), key: "BATCH_TOO_LARGE" },
          { ...knownError("PAYLOAD_TOO_LARGE", request, { message: "a call body exceeds the 1 MB limit" }), key: "CALL_BODY_TOO_LARGE" },
        ],
      ),
    },
  };
}

function getCall(): RouteConfig {
  const request: ExampleRequest = { method: "GET", path: `${CALLS_PATH}/${EXAMPLE_CALL_ID}` };
  return {
    method: "get",
    path: RECORD_PATH,
    operationId: "getCall",
    summary: "Retrieve a call's record",
    description:
      "The call's state and, once sent, its last response. A record is kept 24 h after the call ends " +
      "(`succeeded`, `failed`, `expired` or `dropped`).",
    parameters: [parameterRef("CallId"), parameterRef("OrgId"), parameterRef("OptionalSandboxName"), parameterRef("RequestId")],
    responses: {
      200: jsonResponse("The call's record.", callRecord, callRecords),
      ...commonErrors(request),
      404: errorResponse(404, [knownError("CALL_NOT_FOUND", request, { context: `callId ${EXAMPLE_CALL_ID}` })], {
        headline: "No call with this id in the organization (or its record has expired).",
      }),
    },
  };
}

function listCalls(): RouteConfig {
  const request: ExampleRequest = { method: "GET", path: `${CALLS_PATH}?state=failed&limit=100` };
  const invalidQuery = (key: string, summary: string, query: unknown): ErrorCase => {
    const result = callListQuery.safeParse(query);
    if (result.success) throw new Error(`example list query is valid: ${JSON.stringify(query)}`);
    return { key, summary, request, error: rejectedCallBody(result.error.issues) };
  };
  const badCursor = (() => {
    try {
      decodeCursor("bm90LWEtY3Vyc29y");
    } catch (error) {
      return error as ReturnType<typeof rejectedCallBody>;
    }
    throw new Error("example cursor decodes");
  })();
  return {
    method: "get",
    path: CALLS_PATH,
    operationId: "listCalls",
    summary: "List the organization's calls",
    description: `The organization's call records, newest first, as long as they live (24 h after each call ends). \
Filter by \`state\` to find the \`failed\`, \`expired\` or \`dropped\` calls to replay. Pages hold up to \`limit\` records \
(at most ${MAX_LIST_LIMIT}); pass \`nextCursor\` as \`cursor\` for the next one. A page filtered by state looks at a \
bounded number of calls, so it may hold fewer than \`limit\` records and still have a \`nextCursor\`.`,
    request: { query: callListQuery },
    parameters: [parameterRef("OrgId"), parameterRef("OptionalSandboxName"), parameterRef("RequestId")],
    responses: {
      200: jsonResponse("A page of records.", callList, {
        failed: example("The failed calls", { calls: [callRecords["failed"]!.value], nextCursor: encodeCursor({ hour: 466_524, index: 1200 }) }),
      }),
      400: errorResponse(
        400,
        [
          invalidQuery("INVALID_QUERY", "An unknown state and a limit out of range", { state: "lost", limit: "5000" }),
          { key: "INVALID_CURSOR", summary: "A cursor this API did not return", request, error: badCursor },
        ],
        { schema: callInvalidEnvelope, headline: "The query was rejected; `errors` lists every problem." },
      ),
      ...commonErrors(request),
    },
  };
}

function replayCall(): RouteConfig {
  const request: ExampleRequest = { method: "POST", path: `${CALLS_PATH}/${EXAMPLE_CALL_ID}/replay` };
  return {
    method: "post",
    path: REPLAY_PATH,
    operationId: "replayCall",
    summary: "Send a failed, expired or dropped call again",
    description: `Re-submits the call as a new call: the same method, URL, headers, body, \`timeoutMs\` and \
\`callbackUrl\`, with a new \`callId\` and \`replayOf\` naming this one in its record. It is matched against the \
deployed config, checked against the egress policy and counted against the organization's queue bounds like any \
new call. The original record stays as it was.\n\n${SENDING}`,
    parameters: [parameterRef("CallId"), parameterRef("OrgId"), parameterRef("OptionalSandboxName"), parameterRef("RequestId")],
    responses: {
      202: jsonResponse("The new call, accepted and queued.", acceptedCall, { replayed: example("A new call replaying a failed one", acceptedReplay) }),
      ...commonErrors(request),
      404: errorResponse(404, [knownError("CALL_NOT_FOUND", request, { context: `callId ${EXAMPLE_CALL_ID}` })], {
        headline: "No call with this id in the organization (or its record has expired).",
      }),
      409: errorResponse(409, [knownError("CALL_NOT_REPLAYABLE", request, { context: `call ${EXAMPLE_CALL_ID} is succeeded` })], {
        headline: "The call is queued, being sent or succeeded: only a failed, expired or dropped call is replayed.",
      }),
      429: errorResponse(429, [
        { key: "QUEUE_FULL_CALLS", request, error: queueFull({ setting: "RUNTIME_MAX_QUEUED_PER_ORG", max: DEFAULT_MAX_QUEUED_PER_ORG, unit: "calls" }) },
      ]),
    },
  };
}

/** The call API (CONTRACT §6, §10), at the service root rather than under an authoring base path. */
export function registerRuntimePaths(registry: OpenAPIRegistry): void {
  const atRoot = { tags: [RUNTIME_TAG], servers: [{ url: "/", description: "The service root." }] };
  for (const route of [submitCall(), submitBatch()]) {
    registry.registerPath({ ...route, ...atRoot, parameters: submitHeaders });
  }
  for (const route of [listCalls(), getCall(), replayCall()]) registry.registerPath({ ...route, ...atRoot });
}
