/** What is wrong with a URL pattern: a `*` in its scheme, host or port, or anything else that makes it malformed. */
export type UrlPatternProblem = "wildcardInHost" | "malformed";

const ABSOLUTE = /^([^:/?#]*):\/\/([^/?#]*)(.*)$/s;
/** CONTRACT §11: longer patterns are malformed (and every pattern is matched in linear time, see url-match.ts). */
export const MAX_URL_PATTERN_LENGTH = 2048;

/**
 * The grammar of throttling `urlPattern` and capping `url` (CONTRACT §4, §11, §12): longer than 2,048 characters →
 * malformed; `*` in the scheme, host or port → wildcardInHost; not an absolute http(s) URL, a query or fragment,
 * whitespace, or credentials → malformed.
 */
export function urlPatternProblem(pattern: string): UrlPatternProblem | undefined {
  if (pattern.length > MAX_URL_PATTERN_LENGTH) return "malformed";
  const parts = ABSOLUTE.exec(pattern);
  if (parts && (parts[1]!.includes("*") || parts[2]!.includes("*"))) return "wildcardInHost";
  if (!parts || !parts[2] || /\s/.test(pattern) || pattern.includes("?") || pattern.includes("#")) return "malformed";
  const scheme = parts[1]!.toLowerCase();
  if (scheme !== "http" && scheme !== "https") return "malformed";
  let url: URL;
  try {
    url = new URL(pattern);
  } catch {
    return "malformed";
  }
  if (!url.hostname || url.username || url.password) return "malformed";
  return undefined;
}
