import type { Request, Response } from "express";
import type { z } from "zod";
import { jsonBody, tooLargeMessage } from "../../http/middleware/json-body.js";
import type { Operation } from "../../http/operation.js";
import { commonErrors, egressDenied, queueFullOfCalls, rejectedInput, submissionErrors } from "../../openapi/call-responses.js";
import { parameterRef } from "../../openapi/components.js";
import { callInvalidEnvelope } from "../../openapi/error-envelope.schema.js";
import type { ExampleRequest } from "../../openapi/error-examples.js";
import { errorResponse, example, jsonResponse, knownError } from "../../openapi/responses.js";
import {
  EXAMPLE_CALL_ID,
  acceptedReplay,
  acceptedThrottled,
  acceptedUnthrottled,
  callRecords,
  replayedSucceeded,
  throttledCall,
  unthrottledCall,
} from "../../openapi/runtime-examples.js";
import { BATCH_BODY_LIMIT, invalidIdempotencyKey, malformedCallJson, rejectedCallBody } from "./call-errors.js";
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
} from "./call.schema.js";
import type { CallService } from "./call.service.js";
import { decodeCursor, encodeCursor } from "./list-cursor.js";

export const RUNTIME_BASE_PATH = "/runtime";

/** What the call API's handlers use. */
export interface CallDeps {
  calls: CallService;
}

const CALLS_PATH = `${RUNTIME_BASE_PATH}/calls`;
const RECORD_PATH = `${CALLS_PATH}/{callId}`;

function parse<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw rejectedCallBody(result.error.issues);
}

const idempotencyKeyOf = (req: Request): string | undefined => {
  const key = req.get("idempotency-key");
  if (key !== undefined && (key.length === 0 || key.length > 255)) throw invalidIdempotencyKey();
  return key;
};

const principalOf = (res: Response) => res.locals.principal!;
const callIdOf = (req: Request) => String(req.params["callId"]);

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
const byCallId = [parameterRef("CallId"), parameterRef("OrgId"), parameterRef("OptionalSandboxName"), parameterRef("RequestId")];
const notFound = (request: ExampleRequest) =>
  errorResponse(404, [knownError("CALL_NOT_FOUND", request, { context: `callId ${EXAMPLE_CALL_ID}` })], {
    headline: "No call with this id in the organization (or its record has expired).",
  });

const submitRequest: ExampleRequest = { method: "POST", path: CALLS_PATH };
const batchExample: ExampleRequest = { method: "POST", path: `${CALLS_PATH}/batch` };
const listRequest: ExampleRequest = { method: "GET", path: `${CALLS_PATH}?state=failed&limit=100` };
const recordRequest: ExampleRequest = { method: "GET", path: `${CALLS_PATH}/${EXAMPLE_CALL_ID}` };
const replayRequest: ExampleRequest = { method: "POST", path: `${CALLS_PATH}/${EXAMPLE_CALL_ID}/replay` };

/** What a cursor this API did not return answers. */
function badCursor(): ReturnType<typeof rejectedCallBody> {
  try {
    decodeCursor("bm90LWEtY3Vyc29y");
  } catch (error) {
    return error as ReturnType<typeof rejectedCallBody>;
  }
  throw new Error("example cursor decodes");
}

/**
 * The call API (CONTRACT §6, §10), at the service root: what each operation is, and its handler. 202 on acceptance
 * and replay; records by id and listed.
 */
export const CALL_OPERATIONS: readonly Operation<CallDeps>[] = [
  {
    operationId: "submitCall",
    method: "post",
    path: "/calls",
    summary: "Queue one outbound call",
    description: `A call whose URL and method match the organization's deployed throttling config joins that runtime \
version's throttled queue (\`throttled: true\`); any other call joins the unthrottled queue.\n\n${SENDING}`,
    before: [jsonBody(malformedCallJson)],
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
    parameters: submitHeaders,
    success: {
      status: 202,
      response: jsonResponse("Accepted and queued.", acceptedCall, {
        throttled: example("Throttled by the deployed config", acceptedThrottled),
        unthrottled: example("Unthrottled", acceptedUnthrottled),
        replayed: example("Repeated with the same Idempotency-Key after the call was sent", replayedSucceeded),
      }),
    },
    errors: submissionErrors(
      submitRequest,
      [
        rejectedInput("INVALID_CALL", "Invalid fields", submitRequest, callRequest, {
          method: "FETCH",
          url: "ftp://files.example.org/report",
          timeoutMs: 60_000,
        }),
        rejectedInput("INVALID_HEADERS", "A header the sender sets, and a line break in a value", submitRequest, callRequest, {
          method: "POST",
          url: "https://api.example.org/data/2.5/items",
          headers: { Host: "internal.example.org", "X-Trace": "abc\r\nX-Injected: 1" },
        }),
        rejectedInput("TOO_DEEP", "A body nested deeper than 64 levels", submitRequest, callRequest, {
          method: "POST",
          url: "https://api.example.org/data/2.5/items",
          body: JSON.parse(`${"[".repeat(65)}${"]".repeat(65)}`) as unknown,
        }),
        egressDenied(submitRequest, "url"),
      ],
      [knownError("PAYLOAD_TOO_LARGE", submitRequest)],
    ),
    async handle({ calls }, req, res) {
      const submission = { calls: [parse(callRequest, req.body)], batch: false, idempotencyKey: idempotencyKeyOf(req) };
      const [accepted] = await calls.accept(principalOf(res), submission);
      res.json(accepted);
    },
  },
  {
    operationId: "submitCallBatch",
    method: "post",
    path: "/calls/batch",
    summary: `Queue up to ${MAX_BATCH} outbound calls`,
    description: `Each call is matched and queued as by \`POST ${CALLS_PATH}\`. The batch is accepted as a whole or \
not at all; \`calls\` answers in request order. The request may be up to 32 MB, each call's body up to 1 MB.\n\n${SENDING}`,
    before: [jsonBody(malformedCallJson, BATCH_BODY_LIMIT)],
    body: {
      required: true,
      content: {
        "application/json": {
          schema: batchRequest,
          examples: { mixed: example("One throttled call, one unthrottled", { calls: [throttledCall, unthrottledCall] }) },
        },
      },
    },
    parameters: submitHeaders,
    success: {
      status: 202,
      response: jsonResponse("Accepted and queued, in request order.", batchResponse, {
        mixed: example("One throttled call, one unthrottled", { calls: [acceptedThrottled, acceptedUnthrottled] }),
      }),
    },
    errors: submissionErrors(
      batchExample,
      [
        rejectedInput("EMPTY_BATCH", "No calls", batchExample, batchRequest, { calls: [] }),
        rejectedInput("INVALID_CALL_IN_BATCH", "An invalid call in the batch", batchExample, batchRequest, {
          calls: [throttledCall, { ...unthrottledCall, url: "status.example.net/ping" }],
        }),
        egressDenied(batchExample, "calls.1.url"),
      ],
      [
        { ...knownError("PAYLOAD_TOO_LARGE", batchExample, { message: tooLargeMessage(BATCH_BODY_LIMIT) }), key: "BATCH_TOO_LARGE" },
        { ...knownError("PAYLOAD_TOO_LARGE", batchExample, { message: "a call body exceeds the 1 MB limit" }), key: "CALL_BODY_TOO_LARGE" },
      ],
    ),
    async handle({ calls }, req, res) {
      const submission = { calls: parse(batchRequest, req.body).calls, batch: true, idempotencyKey: idempotencyKeyOf(req) };
      res.json({ calls: await calls.accept(principalOf(res), submission) });
    },
  },
  {
    operationId: "listCalls",
    method: "get",
    path: "/calls",
    summary: "List the organization's calls",
    description: `The organization's call records, newest first, as long as they live (24 h after each call ends). \
Filter by \`state\` to find the \`failed\`, \`expired\` or \`dropped\` calls to replay. Pages hold up to \`limit\` records \
(at most ${MAX_LIST_LIMIT}); pass \`nextCursor\` as \`cursor\` for the next one. A page filtered by state looks at a \
bounded number of calls, so it may hold fewer than \`limit\` records and still have a \`nextCursor\`.`,
    query: callListQuery,
    parameters: [parameterRef("OrgId"), parameterRef("OptionalSandboxName"), parameterRef("RequestId")],
    success: {
      status: 200,
      response: jsonResponse("A page of records.", callList, {
        failed: example("The failed calls", { calls: [callRecords["failed"]!.value], nextCursor: encodeCursor({ hour: 466_524, index: 1200 }) }),
      }),
    },
    errors: {
      400: errorResponse(
        400,
        [
          rejectedInput("INVALID_QUERY", "An unknown state and a limit out of range", listRequest, callListQuery, { state: "lost", limit: "5000" }),
          { key: "INVALID_CURSOR", summary: "A cursor this API did not return", request: listRequest, error: badCursor() },
        ],
        { schema: callInvalidEnvelope, headline: "The query was rejected; `errors` lists every problem." },
      ),
      ...commonErrors(listRequest),
    },
    async handle({ calls }, req, res) {
      res.json(await calls.list(principalOf(res).orgId, parse(callListQuery, req.query)));
    },
  },
  {
    operationId: "getCall",
    method: "get",
    path: "/calls/{callId}",
    summary: "Retrieve a call's record",
    description:
      "The call's state and, once sent, its last response. A record is kept 24 h after the call ends " +
      "(`succeeded`, `failed`, `expired` or `dropped`).",
    parameters: byCallId,
    success: { status: 200, response: jsonResponse("The call's record.", callRecord, callRecords) },
    errors: { ...commonErrors(recordRequest), 404: notFound(recordRequest) },
    async handle({ calls }, req, res) {
      res.json(await calls.get(principalOf(res).orgId, callIdOf(req)));
    },
  },
  {
    operationId: "replayCall",
    method: "post",
    path: "/calls/{callId}/replay",
    summary: "Send a failed, expired or dropped call again",
    description: `Re-submits the call as a new call: the same method, URL, headers, body, \`timeoutMs\` and \
\`callbackUrl\`, with a new \`callId\` and \`replayOf\` naming this one in its record. It is matched against the \
deployed config, checked against the egress policy and counted against the organization's queue bounds like any \
new call. The original record stays as it was.\n\n${SENDING}`,
    parameters: byCallId,
    success: {
      status: 202,
      response: jsonResponse("The new call, accepted and queued.", acceptedCall, { replayed: example("A new call replaying a failed one", acceptedReplay) }),
    },
    errors: {
      ...commonErrors(replayRequest),
      404: notFound(replayRequest),
      409: errorResponse(409, [knownError("CALL_NOT_REPLAYABLE", replayRequest, { context: `call ${EXAMPLE_CALL_ID} is succeeded` })], {
        headline: "The call is queued, being sent or succeeded: only a failed, expired or dropped call is replayed.",
      }),
      429: errorResponse(429, [queueFullOfCalls(replayRequest)]),
    },
    async handle({ calls }, req, res) {
      res.json(await calls.replay(principalOf(res), callIdOf(req)));
    },
  },
];
