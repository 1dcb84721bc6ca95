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
 * The pattern must already be valid (see `urlPatternProblem`); an unparsable pattern throws a TypeError.
 */
export type UrlMatcher = (method: string, url: URL) => boolean;

export function compileMatcher(urlPattern: string, methods: readonly string[]): UrlMatcher {
  const pattern = new URL(urlPattern);
  const allowedMethods = new Set(methods.map((method) => method.toUpperCase()));
  const pathMatches = wildcardMatcher(pattern.pathname);

  return (method, url) =>
    allowedMethods.has(method.toUpperCase()) &&
    url.protocol === pattern.protocol &&
    url.hostname === pattern.hostname &&
    url.port === pattern.port &&
    pathMatches(url.pathname);
}

/**
 * `*` matches any run of characters, every other character itself; in time linear in the pattern's and the text's
 * lengths (CONTRACT §11), whatever they hold. The literal runs between stars must appear in order: the first at the
 * start, the last at the end, and each one between at its leftmost place after the previous one (taking the
 * leftmost place never loses a match, since a star absorbs whatever lies between). Each search is Knuth-Morris-Pratt,
 * which never re-reads a character of the text.
 */
export function wildcardMatcher(pattern: string): (text: string) => boolean {
  const runs = pattern.split("*");
  const first = runs[0]!;
  if (runs.length === 1) return (text) => text === pattern;
  const last = runs[runs.length - 1]!;
  const middle = runs.slice(1, -1).filter(Boolean).map(literalSearch);
  return (text) => {
    if (text.length < first.length + last.length || !text.startsWith(first) || !text.endsWith(last)) return false;
    const end = text.length - last.length;
    let position = first.length;
    for (const find of middle) {
      const found = find(text, position, end);
      if (found < 0) return false;
      position = found;
    }
    return true;
  };
}

/**
 * Knuth-Morris-Pratt search for `literal`: returns a function giving the index just past its first occurrence in
 * `text[from, to)`, or -1.
 */
function literalSearch(literal: string): (text: string, from: number, to: number) => number {
  const fallback = new Int32Array(literal.length);
  for (let i = 1, k = 0; i < literal.length; i++) {
    while (k > 0 && literal[i] !== literal[k]) k = fallback[k - 1]!;
    if (literal[i] === literal[k]) k++;
    fallback[i] = k;
  }
  return (text, from, to) => {
    for (let i = from, k = 0; i < to; i++) {
      while (k > 0 && text[i] !== literal[k]) k = fallback[k - 1]!;
      if (text[i] === literal[k]) k++;
      if (k === literal.length) return i + 1;
    }
    return -1;
  };
}
