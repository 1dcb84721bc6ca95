import type { z } from "zod";
import { buildCanDeployReport, issueOf, issuesContext, payloadRejection, type CanDeployReport, type Violation } from "../authoring/can-deploy.js";
import type { ApiError } from "../shared/errors/api-error.js";
import { ERRORS, requiredAttributeMessage, type ErrorName } from "../shared/errors/catalogue.js";
import { throttlingConfigInput, type ThrottlingConfigInput } from "./throttling-config.schema.js";

const REQUIRED = new Set(["urlPattern", "methods"]);

/** Maps a zod issue to the CONTRACT §4 rule it breaks. */
function toViolation(issue: z.core.$ZodIssue): Violation {
  const field = String(issue.path[0] ?? "");
  const input = (issue as { input?: unknown }).input;
  if (issue.code === "custom") {
    const name = (issue.params as { violation: ErrorName }).violation;
    return { name, message: ERRORS[name].message };
  }
  if (field === "maxThroughput" && issue.path.length === 1 && (input == null || typeof input === "number")) {
    return { name: "CONFIG_MAX_THROUGHPUT", message: ERRORS.CONFIG_MAX_THROUGHPUT.message };
  }
  const missing = issue.path.length === 1 && REQUIRED.has(field) && (input === undefined || input === null);
  const emptyMethods = field === "methods" && issue.path.length === 1 && issue.code === "too_small";
  if (missing || emptyMethods) {
    return { name: "CONFIG_ATTRIBUTE_REQUIRED", message: requiredAttributeMessage(field) };
  }
  return { name: "CONFIG_INVALID_PAYLOAD", message: ERRORS.CONFIG_INVALID_PAYLOAD.message };
}

export const errorReport = (violations: readonly Violation[]): CanDeployReport => buildCanDeployReport(violations.map(issueOf));

export type Validated = { ok: true; value: ThrottlingConfigInput } | { ok: false; error: ApiError; violations: Violation[] };

/** Validates a whole payload, collecting every violated rule (deduplicated) rather than stopping at the first. */
export function validatePayload(body: unknown): Validated {
  const result = throttlingConfigInput.safeParse(body, { reportInput: true });
  if (result.success) return { ok: true, value: result.data };
  const unique = new Map<string, Violation>();
  for (const violation of result.error.issues.map(toViolation)) unique.set(`${violation.name}|${violation.message}`, violation);
  const violations = [...unique.values()] as [Violation, ...Violation[]];
  return { ok: false, error: payloadRejection(violations, issuesContext(result.error.issues)), violations };
}

export const malformedJson = (detail: string): ApiError =>
  payloadRejection([{ name: "CONFIG_INVALID_PAYLOAD", message: ERRORS.CONFIG_INVALID_PAYLOAD.message }], `malformed JSON: ${detail}`);
