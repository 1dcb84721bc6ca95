/**
 * Runtime matching of a called URL + method against a throttling config (CONTRACT §4 "Pattern matching").
 *
 * `compileMatcher(urlPattern, methods)` parses the pattern once and returns a predicate `(method, url) => boolean`:
 * - scheme, host (case-insensitive) and port must be equal; default ports are implied
 *   (`https://a.com` ≡ `https://a.com:443`), so `http://a.com` never matches `https://a.com`.
 * - path: `*` matches any run of characters, including `/` and the empty run; every other character is literal.
 *   Both sides are compared as the WHATWG URL parser normalizes them (`URL.pathname`): percent-encoding of
 *   non-ASCII and reserved characters, `\` → `/`, dot-segments resolved. The parser leaves `*` untouched.
 *   A pattern without a path has the path `/` and matches only `/`.
 * - the query string and fragment of the called URL are ignored.
 * - the method is compared case-insensitively against `methods`.
 *
 * The pattern must already be valid (see `urlPatternViolation`); an unparsable pattern throws a TypeError.
 */
export type UrlMatcher = (method: string, url: URL) => boolean;

export function compileMatcher(urlPattern: string, methods: readonly string[]): UrlMatcher {
  const pattern = new URL(urlPattern);
  const allowedMethods = new Set(methods.map((method) => method.toUpperCase()));
  const path = pathRegExp(pattern.pathname);

  return (method, url) =>
    allowedMethods.has(method.toUpperCase()) &&
    url.protocol === pattern.protocol &&
    url.hostname === pattern.hostname &&
    url.port === pattern.port &&
    path.test(url.pathname);
}

function pathRegExp(patternPath: string): RegExp {
  const literalRuns = patternPath.split("*").map(escapeRegExp);
  return new RegExp(`^${literalRuns.join(".*")}$`, "s");
}

function escapeRegExp(literal: string): string {
  return literal.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
