import { urlPatternProblem } from "../authoring/url-pattern.js";
import type { Tx } from "../db/prisma.js";
import { ApiError } from "../shared/errors/api-error.js";
import type { EndpointConfigValues } from "./capping-config.schema.js";

/**
 * A url as the runtime compares it (url-match.ts): scheme and host lower-case, the default port dropped, the path as
 * the URL parser normalizes it; the url as given when it is not a valid one.
 */
export function endpointKey(url: string): string {
  if (urlPatternProblem(url)) return url;
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}

/**
 * CONTRACT §12: at most one config per (org, url) for any one method. Takes the org's transaction-scoped advisory
 * lock first, so that concurrent writes of the org, from any API process, check one after the other and each sees
 * what the previous one committed. `uid` is the config being updated, which cannot clash with itself.
 */
export async function refuseDuplicate(tx: Tx, orgId: string, values: EndpointConfigValues, uid?: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`capping_configs:${orgId}`}, 0))`;
  const others = await tx.cappingConfig.findMany({
    where: { orgId, ...(uid ? { NOT: { uid } } : {}) },
    select: { uid: true, url: true, methods: true },
    orderBy: { createdAt: "asc" },
  });
  const key = endpointKey(values.url);
  const methods = new Set<string>(values.methods);
  for (const other of others) {
    const shared = other.methods.filter((method) => methods.has(method));
    if (shared.length && endpointKey(other.url) === key) {
      throw new ApiError("ENDPOINT_CONFIG_DUPLICATE", {
        context: `endpoint config ${other.uid} already has the url ${other.url} and the method(s) ${shared.join(", ")}`,
      });
    }
  }
}
