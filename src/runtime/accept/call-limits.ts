import { isIP } from "node:net";
import { z } from "zod";
import { unbracketed } from "../../shared/url-host.js";

/**
 * What a call may carry (CONTRACT §11 "Call input limits"): everything that would fail when sent, or cost more than
 * it should, is refused when the call is submitted.
 */
export const MAX_URL_BYTES = 8 * 1024;
export const MAX_HEADERS = 64;
export const MAX_HEADER_BYTES = 16 * 1024;
export const MAX_BODY_DEPTH = 64;

/** RFC 9110 `token`. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** RFC 9110 field-value characters as undici sends them: HTAB, visible ASCII, space and Latin-1 (obs-text). */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** Hop-by-hop and framing headers: the sender sets them, or they mean nothing on a forwarded request. */
const FORBIDDEN_HEADERS = new Set(["host", "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "expect", "te", "trailer"]);

const isForbidden = (name: string): boolean => {
  const lower = name.toLowerCase();
  return FORBIDDEN_HEADERS.has(lower) || lower.startsWith("proxy-");
};

/** Why `value` is not a URL Sluice may send to (before the egress policy, which needs the configuration). */
export function urlProblem(value: string): string | undefined {
  if (Buffer.byteLength(value) > MAX_URL_BYTES) return `must be at most ${MAX_URL_BYTES} bytes`;
  const url = URL.parse(value);
  if (!url) return "must be an absolute URL";
  if (url.protocol !== "http:" && url.protocol !== "https:") return "must be an http or https URL";
  if (url.username || url.password) return "must not carry credentials (user:password@)";
  if (url.href.length > MAX_URL_BYTES) return `must be at most ${MAX_URL_BYTES} bytes once encoded`;
  const host = unbracketed(url.hostname);
  if (!isIP(host) && !z.regexes.hostname.test(host)) return "must have a valid host name";
  return undefined;
}

/** Every way `headers` break the limits, each with the header it concerns (if one). */
export function headerProblems(headers: Record<string, string>): { name?: string; message: string }[] {
  const problems: { name?: string; message: string }[] = [];
  const names = Object.keys(headers);
  if (names.length > MAX_HEADERS) problems.push({ message: `at most ${MAX_HEADERS} headers (got ${names.length})` });
  let bytes = 0;
  for (const name of names) {
    const value = headers[name]!;
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value);
    if (!TOKEN.test(name)) problems.push({ name, message: "the name must be an RFC 9110 token (letters, digits and !#$%&'*+-.^_`|~)" });
    else if (isForbidden(name)) problems.push({ name, message: "hop-by-hop and framing headers (Host, Content-Length, Transfer-Encoding, Connection, Keep-Alive, Upgrade, Expect, TE, Trailer, Proxy-*) are set by the sender" });
    if (!FIELD_VALUE.test(value)) problems.push({ name, message: "the value must not contain CR, LF, NUL, other control characters or characters beyond Latin-1" });
  }
  if (bytes > MAX_HEADER_BYTES) problems.push({ message: `names and values must total at most ${MAX_HEADER_BYTES} bytes (got ${bytes})` });
  return problems;
}

/** How deep arrays and objects nest in a JSON value (a scalar: 0); counted without recursion. */
export function jsonDepth(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== "object") continue;
    deepest = Math.max(deepest, depth);
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return deepest;
}
