import type { ErrorName } from "../shared/errors/catalogue.js";

const ABSOLUTE = /^([^:/?#]*):\/\/([^/?#]*)(.*)$/s;
/** CONTRACT §11: longer patterns are malformed (and every pattern is matched in linear time, see url-match.ts). */
export const MAX_URL_PATTERN_LENGTH = 2048;

/**
 * Which rule (if any) a urlPattern breaks (CONTRACT §4, §11): longer than 2,048 characters → 104; `*` in the scheme,
 * host or port → 105; not an absolute http(s) URL, a query or fragment, whitespace, or credentials → 104.
 */
export function urlPatternViolation(pattern: string): ErrorName | undefined {
  if (pattern.length > MAX_URL_PATTERN_LENGTH) return "CONFIG_MALFORMED_URL_PATTERN";
  const parts = ABSOLUTE.exec(pattern);
  if (parts && (parts[1]!.includes("*") || parts[2]!.includes("*"))) return "CONFIG_WILDCARD_IN_HOST";
  if (!parts || !parts[2] || /\s/.test(pattern) || pattern.includes("?") || pattern.includes("#")) {
    return "CONFIG_MALFORMED_URL_PATTERN";
  }
  const scheme = parts[1]!.toLowerCase();
  if (scheme !== "http" && scheme !== "https") return "CONFIG_MALFORMED_URL_PATTERN";
  let url: URL;
  try {
    url = new URL(pattern);
  } catch {
    return "CONFIG_MALFORMED_URL_PATTERN";
  }
  if (!url.hostname || url.username || url.password) return "CONFIG_MALFORMED_URL_PATTERN";
  return undefined;
}
