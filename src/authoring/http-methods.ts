import { z } from "zod";

/** The methods a throttling or capping config can name (CONTRACT §4). */
export const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** One method of a config's `methods`: matched case-insensitively, stored upper-case. */
export const httpMethod = z.preprocess(
  (value) => (typeof value === "string" ? value.toUpperCase() : value),
  z.enum(HTTP_METHODS).meta({ description: "Matched case-insensitively, stored upper-case." }),
);

/** `methods` as stored: duplicates removed, first occurrence first. */
export const distinctMethods = (methods: readonly HttpMethod[]): HttpMethod[] => [...new Set(methods)];
