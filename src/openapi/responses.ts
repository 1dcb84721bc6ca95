import type { ResponseConfig, ZodMediaTypeObject } from "@asteasolutions/zod-to-openapi";
import type { z } from "zod";
import { ApiError, type ApiErrorOptions } from "../shared/errors/api-error.js";
import type { ErrorName } from "../shared/errors/catalogue.js";
import { RESPONSE_HEADERS, RETRY_RESPONSE_HEADERS } from "./components.js";
import { errorEnvelope } from "./error-envelope.schema.js";
import { examplesOf, type ErrorCase, type ExampleRequest } from "./error-examples.js";

export type Examples = NonNullable<ZodMediaTypeObject["examples"]>;

export const example = (summary: string, value: unknown): Examples[string] => ({ summary, value });

export const jsonResponse = (
  description: string,
  schema: z.ZodType,
  examples?: Examples,
  headers: ResponseConfig["headers"] = RESPONSE_HEADERS,
): ResponseConfig => ({ description, headers, content: { "application/json": { schema, ...(examples && { examples }) } } });

export const noContentResponse = (description: string): ResponseConfig => ({ description, headers: RESPONSE_HEADERS });

const HEADLINES = {
  400: "The request was rejected.",
  401:
    "Missing or invalid credentials (`Authorization: Bearer <token>` and `x-api-key`). Too many failed " +
    "authentications from one client address are answered 429 instead, before any credential is looked up.",
  403: "`x-gw-ims-org-id` is not the credential's organization.",
  404: "No throttling config with this uid in the organization.",
  409: "The request conflicts with an earlier one.",
  413: "The request body is over 1 MB.",
  415: "A request body was sent without `Content-Type: application/json` (UTF-8).",
  429: "Too many: retry after `Retry-After` seconds.",
  500: "The sandbox is unknown (4000, as in the Throttling API), or the operation failed unexpectedly.",
  503: "Postgres or Redis is unreachable: retry after `Retry-After` seconds.",
} as const;

export type ErrorStatus = keyof typeof HEADLINES;

/** A catalogue error as `request` would receive it. */
export const knownError = (name: ErrorName, request: ExampleRequest, options: ApiErrorOptions = {}): ErrorCase => ({
  key: name,
  error: new ApiError(name, options),
  request,
});

export interface ErrorResponseOptions {
  readonly schema?: z.ZodType;
  readonly headline?: string;
}

/** What each `errorResponse` was built from, so that more cases can be added to it (`withMoreCases`). */
const documented = new WeakMap<object, { status: ErrorStatus; cases: readonly ErrorCase[]; options: ErrorResponseOptions }>();

/** A documented error response: the envelope, one example per case, and their codes listed in the description. */
export function errorResponse(status: ErrorStatus, cases: readonly ErrorCase[], options: ErrorResponseOptions = {}): ResponseConfig {
  const codes = new Set(cases.map(({ error }) => `- \`${error.definition.code}\`: ${error.definition.message}`));
  const response = jsonResponse(
    `${options.headline ?? HEADLINES[status]}\n\n${[...codes].join("\n")}`,
    options.schema ?? errorEnvelope,
    examplesOf(cases),
    status === 503 || status === 429 ? RETRY_RESPONSE_HEADERS : RESPONSE_HEADERS,
  );
  documented.set(response, { status, cases, options });
  return response;
}

/**
 * `response` (built by `errorResponse`, or absent) with more cases documented first, under `headline` followed by
 * the response's own headline when it has one.
 */
export function withMoreCases(
  status: ErrorStatus,
  response: object | undefined,
  cases: readonly ErrorCase[],
  headline: string,
): ResponseConfig {
  if (!response) return errorResponse(status, cases, { headline });
  const earlier = documented.get(response);
  if (earlier?.status !== status) throw new Error(`the ${status} response to extend was not built by errorResponse(${status})`);
  return errorResponse(status, [...cases, ...earlier.cases], {
    ...earlier.options,
    headline: earlier.options.headline ? `${headline}\n\n${earlier.options.headline}` : headline,
  });
}
