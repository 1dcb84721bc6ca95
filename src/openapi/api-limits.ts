import type { RouteConfig } from "@asteasolutions/zod-to-openapi";
import { z } from "zod";
import { planCeiling, type LimitClass } from "../tenancy/api-limits.js";
import { apiLimitHeaders } from "./components.js";
import type { ErrorCase, ExampleRequest } from "./error-examples.js";
import { knownError, withMoreCases } from "./responses.js";

// CONTRACT §7: Sluice's own API limits, documented on every authoring and call API operation.

/** Answered before the organization is known: never counted, so without the API limit headers. */
const NEVER_COUNTED = new Set(["401"]);
/**
 * May also be answered before the request is counted: a 5xx while the credential is looked up, or the 429 for too
 * many failed authentications. (The org mismatch, 403, is found after counting.)
 */
const MAYBE_UNCOUNTED = new Set(["429", "500", "503"]);

const HEADLINE = (limitClass: LimitClass) =>
  `Too many requests: nothing was stored or queued; retry after \`Retry-After\` seconds. Either the organization's \
\`${limitClass}\` requests reached its ceiling in the sliding 60-second window (\`X-RateLimit-Remaining: 0\`), or too \
many failed authentications came from this client address: that 429 is answered before the credentials are checked, \
without the \`X-RateLimit-*\` and \`RateLimit*\` headers.`;

function rateLimitedCases(limitClass: LimitClass, request: ExampleRequest): ErrorCase[] {
  return [
    {
      ...knownError("RATE_LIMITED", request, { context: `${limitClass}: ${planCeiling("S", limitClass)} requests per minute` }),
      summary: `The organization's \`${limitClass}\` requests per minute are used up`,
    },
    { ...knownError("AUTH_RATE_LIMITED", request), summary: "Too many failed authentications from this client address" },
  ];
}

/**
 * An operation's responses with the API limits: its 429 documents `ERR_RATE_LIMITED` (both causes) before whatever
 * else it answered 429 for, and every response but the 401 carries the `X-RateLimit-*` and `RateLimit*` headers.
 * `request` is what the examples answer.
 */
export function withApiLimits(
  responses: RouteConfig["responses"],
  limitClass: LimitClass,
  request: ExampleRequest,
): RouteConfig["responses"] {
  const all = {
    ...responses,
    429: withMoreCases(429, responses["429"], rateLimitedCases(limitClass, request), HEADLINE(limitClass)),
  };
  return Object.fromEntries(
    Object.entries(all).map(([status, response]) => {
      if ("$ref" in response || NEVER_COUNTED.has(status)) return [status, response];
      const { headers = {} } = response;
      if (headers instanceof z.ZodType) throw new Error(`the ${status} response's headers are a zod schema, not a headers object`);
      return [status, { ...response, headers: { ...headers, ...apiLimitHeaders(MAYBE_UNCOUNTED.has(status)) } }];
    }),
  );
}
