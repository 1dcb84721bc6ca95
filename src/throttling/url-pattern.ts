import type { ErrorName } from "../shared/errors/catalogue.js";

const ABSOLUTE = /^([^:/?#]*):\/\/([^/?#]*)(.*)$/s;

/**
 * Which rule (if any) a urlPattern breaks (CONTRACT §4): `*` in the scheme, host or port → 105;
 * not an absolute http(s) URL, a query or fragment, whitespace, or credentials → 104.
 */
export function urlPatternViolation(pattern: string): ErrorName | undefined {
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
