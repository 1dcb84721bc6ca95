/**
 * How long a target asks us to back off (CONTRACT §6 "Send and retry").
 *
 * `pauseUntil(status, headers, nowMs)` returns the epoch-ms instant until which the whole lane must pause,
 * or `undefined` when the status is not 429/503 or no header gives a usable instant. Header names are
 * case-insensitive. Understood headers:
 * - `Retry-After`: delta-seconds or an HTTP-date.
 * - `RateLimit-Reset`: delta-seconds.
 * - `X-RateLimit-Reset`: unix milliseconds (> 1e12), unix seconds (> 1e9), otherwise delta-seconds.
 * - `RateLimit` (IETF structured field): `t=<delta-seconds>` of the current draft, honoured for policies whose
 *   remaining quota `r` is 0 or absent (e.g. `"default";r=0;t=7`), and the older draft's `reset=<delta-seconds>`
 *   (e.g. `limit=10, remaining=0, reset=7`).
 * When several instants are given, the latest wins. Negative, non-numeric or unparsable values are ignored, as
 * is any instant not after `nowMs`. A single pause is capped at 6 hours, the queue retention (calls expire then).
 * Delta-seconds may be fractional. A multi-valued header (array, or values joined with ", ") gives several
 * candidates, except that an HTTP-date is only recognised as the whole value.
 */
export const MAX_PAUSE_MS = 6 * 60 * 60 * 1000;

type HeaderValue = string | string[] | undefined;

export function pauseUntil(status: number, headers: Record<string, HeaderValue>, nowMs: number): number | undefined {
  if (status !== 429 && status !== 503) return undefined;
  const values = headerValuesByLowerName(headers);
  const delays = [
    ...(values.get("retry-after") ?? []).flatMap(retryAfterMs(nowMs)),
    ...(values.get("ratelimit-reset") ?? []).flatMap(listItems).flatMap(deltaSecondsMs),
    ...(values.get("x-ratelimit-reset") ?? []).flatMap(listItems).flatMap(xRateLimitResetMs(nowMs)),
    ...(values.get("ratelimit") ?? []).flatMap(rateLimitFieldMs),
  ].filter((delayMs) => delayMs > 0);
  if (delays.length === 0) return undefined;
  return nowMs + Math.ceil(Math.min(Math.max(...delays), MAX_PAUSE_MS));
}

function headerValuesByLowerName(headers: Record<string, HeaderValue>): Map<string, string[]> {
  const byName = new Map<string, string[]>();
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const key = name.toLowerCase();
    byName.set(key, [...(byName.get(key) ?? []), ...(Array.isArray(value) ? value : [value])]);
  }
  return byName;
}

const NON_NEGATIVE_NUMBER = /^\d+(?:\.\d+)?$/;

function parseNonNegative(text: string): number | undefined {
  const trimmed = text.trim();
  return NON_NEGATIVE_NUMBER.test(trimmed) ? Number(trimmed) : undefined;
}

/** Delays in ms: a one-element array, or empty when the value is garbage (so it can be used with flatMap). */
function deltaSecondsMs(text: string): number[] {
  const seconds = parseNonNegative(text);
  return seconds === undefined ? [] : [seconds * 1000];
}

/** Members of a comma-separated list; commas inside double quotes do not split. */
function listItems(value: string): string[] {
  return (value.match(/(?:"[^"]*"|[^,])+/g) ?? []).map((item) => item.trim());
}

/** RFC 9110 HTTP-date formats (Date.parse alone accepts far too much): IMF-fixdate or RFC 850, and asctime. */
const IMF_OR_RFC850_DATE = /^[a-z]{3,9}, \d{2}[ -][a-z]{3}[ -]\d{2}(?:\d{2})? \d{2}:\d{2}:\d{2} GMT$/i;
const ASCTIME_DATE = /^[a-z]{3} [a-z]{3} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/i;

const retryAfterMs =
  (nowMs: number) =>
  (value: string): number[] => {
    const trimmed = value.trim();
    if (IMF_OR_RFC850_DATE.test(trimmed) || ASCTIME_DATE.test(trimmed)) {
      const instant = Date.parse(trimmed);
      return Number.isNaN(instant) ? [] : [instant - nowMs];
    }
    return listItems(value).flatMap(deltaSecondsMs);
  };

const xRateLimitResetMs =
  (nowMs: number) =>
  (item: string): number[] => {
    const value = parseNonNegative(item);
    if (value === undefined) return [];
    if (value > 1e12) return [value - nowMs];
    if (value > 1e9) return [value * 1000 - nowMs];
    return [value * 1000];
  };

/** `"policy";r=0;t=7` (current draft) or `reset=7` (older draft) members of an IETF `RateLimit` field. */
function rateLimitFieldMs(value: string): number[] {
  return listItems(value).flatMap((member) => {
    const params = memberParams(member);
    const remaining = params.get("r");
    const reset = params.get("t") ?? params.get("reset");
    if (reset === undefined) return [];
    if (remaining !== undefined && parseNonNegative(remaining) !== 0) return [];
    return deltaSecondsMs(reset);
  });
}

function memberParams(member: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const part of member.split(";")) {
    const separator = part.indexOf("=");
    if (separator > 0) params.set(part.slice(0, separator).trim().toLowerCase(), part.slice(separator + 1).trim());
  }
  return params;
}
