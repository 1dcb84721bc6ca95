/** A URL host without the brackets an IPv6 literal wears there (`[::1]` → `::1`). */
export const unbracketed = (host: string): string => (host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host);
