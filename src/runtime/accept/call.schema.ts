import { z } from "zod";
import { HTTP_METHODS } from "../../authoring/http-methods.js";
import { CAPPING_SERVICES } from "../capping-runtimes.js";
import { headerProblems, jsonDepth, MAX_BODY_DEPTH, MAX_HEADER_BYTES, MAX_HEADERS, MAX_URL_BYTES, urlProblem } from "./call-limits.js";

/** A call's `timeoutMs` when it gives none (also the most it may give). */
export const DEFAULT_CALL_TIMEOUT_MS = 30_000;

export const MAX_BATCH = 1000;
export const MAX_CALL_BODY_BYTES = 1024 * 1024;

/** An absolute http(s) URL within the limits (CONTRACT §11); the egress policy is checked on acceptance. */
const httpUrl = z
  .string()
  .superRefine((value, ctx) => {
    const problem = urlProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  })
  .meta({ format: "uri", maxLength: MAX_URL_BYTES });

const method = z.preprocess(
  (value) => (typeof value === "string" ? value.toUpperCase() : value),
  z.enum(HTTP_METHODS).meta({ description: "Case-insensitive." }),
);

/** One outbound call to make (CONTRACT §6). */
export const callRequest = z
  .object({
    method,
    url: httpUrl.meta({
      description: `Absolute http(s) URL of the external endpoint, at most ${MAX_URL_BYTES} bytes, without credentials. \
An IP address or \`localhost\` that the egress policy denies is refused.`,
      example: "https://api.example.org/data/2.5/items",
    }),
    headers: z
      .record(z.string(), z.string())
      .superRefine((headers, ctx) => {
        for (const { name, message } of headerProblems(headers)) ctx.addIssue({ code: "custom", message, path: name === undefined ? [] : [name] });
      })
      .optional()
      .meta({
        description: `At most ${MAX_HEADERS} headers, ${MAX_HEADER_BYTES} bytes of names and values in all. Names are RFC 9110 tokens; \
values hold no CR, LF, NUL or other control characters. Hop-by-hop and framing headers (Host, Content-Length, \
Transfer-Encoding, Connection, Keep-Alive, Upgrade, Expect, TE, Trailer, Proxy-*) are refused.`,
      }),
    body: z
      .unknown()
      .superRefine((body, ctx) => {
        if (jsonDepth(body) > MAX_BODY_DEPTH) ctx.addIssue({ code: "custom", message: `arrays and objects must nest at most ${MAX_BODY_DEPTH} levels deep` });
      })
      .optional()
      .meta({
        description: `A string is sent as-is; any other JSON value is sent as JSON (Content-Type: application/json unless set), \
nested at most ${MAX_BODY_DEPTH} levels deep.`,
      }),
    timeoutMs: z.int().min(1000).max(DEFAULT_CALL_TIMEOUT_MS).default(DEFAULT_CALL_TIMEOUT_MS).meta({ description: "Budget for all attempts of the call." }),
    callbackUrl: httpUrl.optional().meta({ description: "Receives the final call record as a POST; the same rules as `url`." }),
    service: z
      .enum(CAPPING_SERVICES)
      .optional()
      .meta({ description: "Which service's limits of a matching capping config apply (CONTRACT §12); `action` when absent." }),
  })
  .strict()
  .meta({ id: "CallRequest" });

export type CallRequest = z.output<typeof callRequest>;

export const batchRequest = z
  .object({ calls: z.array(callRequest).min(1).max(MAX_BATCH) })
  .strict()
  .meta({ id: "CallBatchRequest" });

export const CALL_STATES = ["queued", "sending", "succeeded", "failed", "expired", "dropped"] as const;
export type CallState = (typeof CALL_STATES)[number];
/** The states a call can be replayed from (CONTRACT §10). */
export const REPLAYABLE_STATES: readonly CallState[] = ["failed", "expired", "dropped"];
export const CALLBACK_STATES = ["pending", "delivered", "failed"] as const;

const replayOf = z.string().optional().meta({ description: "The call this one re-submits (`POST /runtime/calls/{callId}/replay`)." });

export const acceptedCall = z
  .object({
    callId: z.string(),
    state: z.enum(CALL_STATES),
    throttled: z.boolean(),
    throttlingConfigUid: z.uuid().optional(),
    runtimeVersion: z.int().optional(),
    limitedBy: z
      .array(
        z.object({
          api: z.enum(["throttling", "capping"]),
          configUid: z.uuid().optional(),
          service: z.enum(CAPPING_SERVICES).optional().meta({ description: "The capping config's service whose limits apply." }),
        }),
      )
      .optional()
      .meta({
        description:
          "Every config whose limits the call obeys: the capping configs that match it (its url, methods and `service`) and the org's throttling config if it matches too; absent when none does.",
      }),
    replayOf,
  })
  .meta({ id: "AcceptedCall" });
export type AcceptedCall = z.infer<typeof acceptedCall>;

export const batchResponse = z.object({ calls: z.array(acceptedCall) }).meta({ id: "CallBatchResponse" });

export const callRecord = acceptedCall
  .extend({
    method: z.enum(HTTP_METHODS),
    url: z.string(),
    attempts: z.int().meta({ description: "Sends counted against the retry limit; a send answered by a pause signal is not one." }),
    acceptedAt: z.iso.datetime(),
    sentAt: z.iso.datetime().optional(),
    completedAt: z.iso.datetime().optional(),
    waitMs: z.int().meta({ description: "Time from acceptance to the first send (or until now while queued)." }),
    response: z
      .object({ status: z.int(), headers: z.record(z.string(), z.string()), bodyPreview: z.string() })
      .optional()
      .meta({
        description:
          "The last response: its status, its end-to-end headers (hop-by-hop ones are left out) up to 1 KB of names and values, and the first RUNTIME_BODY_PREVIEW_BYTES (default 1 KB) of its body.",
      }),
    error: z.string().optional(),
    callback: z
      .object({
        state: z.enum(CALLBACK_STATES),
        attempts: z.int().meta({ description: "POSTs made to the callbackUrl so far." }),
        lastStatus: z.int().optional().meta({ description: "The HTTP status of the last attempt's answer, if it got one." }),
      })
      .optional()
      .meta({
        description:
          "Present when the call was given a callbackUrl: `pending` until its final record is delivered (a 2xx), `failed` once 24 h of retries passed without one.",
      }),
  })
  .meta({ id: "CallRecord" });
export type CallRecord = z.infer<typeof callRecord>;

export const MAX_LIST_LIMIT = 1000;

/** `GET /runtime/calls`'s query (CONTRACT §10). */
export const callListQuery = z
  .object({
    state: z.enum(CALL_STATES).optional().meta({ description: "Only calls in this state." }),
    limit: z.coerce.number().int().min(1).max(MAX_LIST_LIMIT).default(100).meta({ description: "Most records to return." }),
    cursor: z.string().min(1).optional().meta({ description: "`nextCursor` of the previous page." }),
  })
  .strict();
export type CallListQuery = z.output<typeof callListQuery>;

export const callList = z
  .object({
    calls: z.array(callRecord).meta({ description: "Newest first." }),
    nextCursor: z
      .string()
      .optional()
      .meta({ description: "Present when more calls may follow: pass it as `cursor`. A page filtered by state may hold fewer than `limit` records and still have one." }),
  })
  .meta({ id: "CallList" });
export type CallList = z.infer<typeof callList>;
