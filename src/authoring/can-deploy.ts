import { z } from "zod";
import { countAliveWorkers } from "../runtime/worker-heartbeats.js";
import { ApiError } from "../shared/errors/api-error.js";
import { ERRORS, type ErrorName } from "../shared/errors/catalogue.js";
import type { RedisClient } from "../shared/redis.js";

// The `canDeploy` report both authoring features answer (CONTRACT §4, §12), and what goes into it.

export const canDeployIssue = z.object({ errorCode: z.string(), error: z.string() }).meta({ id: "CanDeployIssue" });
export type CanDeployIssue = z.infer<typeof canDeployIssue>;

/** Runtime readiness: advisory, never an error. */
export const runtimeWarning = z
  .object({ warningCode: z.enum(["RUNTIME_NO_WORKER", "RUNTIME_UNKNOWN"]), warning: z.string() })
  .meta({ id: "CanDeployWarning" });
export type RuntimeWarning = z.infer<typeof runtimeWarning>;

/** The report's schema, with the warnings a feature gives. */
export const canDeployReportOf = <Warning extends z.ZodType>(warning: Warning) =>
  z.object({
    validationStatus: z.enum(["ok", "error"]),
    reason: z.string().optional(),
    errors: z.array(canDeployIssue).optional(),
    warnings: z.array(warning).optional(),
  });

/** The report of a payload refused with 400, or of a config whose only warning is about runtime readiness. */
export const canDeployReport = canDeployReportOf(runtimeWarning).meta({ id: "CanDeployReport" });
export type CanDeployReport = z.infer<typeof canDeployReport>;

export interface CanDeployReportOf<Warning> {
  validationStatus: "ok" | "error";
  reason?: string | undefined;
  errors?: CanDeployIssue[] | undefined;
  warnings?: Warning[] | undefined;
}

/** "error" with every issue when there is one, "ok" otherwise; warnings either way. */
export function buildCanDeployReport<Warning>(issues: readonly CanDeployIssue[], warnings: readonly Warning[] = []): CanDeployReportOf<Warning> {
  return {
    validationStatus: issues.length ? "error" : "ok",
    ...(issues.length ? { reason: `${issues.length} error(s) currently blocking the publication`, errors: [...issues] } : {}),
    ...(warnings.length ? { warnings: [...warnings] } : {}),
  };
}

/** Where the workers' heartbeats are. */
export interface RuntimeReadinessLink {
  redis: RedisClient;
  redisPrefix: string;
  /** Tells every API process, after a write commits, that what the org has deployed may have changed (CONTRACT §7). */
  announceChange(orgId: string): Promise<void>;
}

/** Readiness is advisory: an unreachable Redis becomes a warning, so a committed create or update still answers 200. */
export async function runtimeReadiness({ redis, redisPrefix }: RuntimeReadinessLink): Promise<RuntimeWarning | undefined> {
  const alive = await countAliveWorkers(redis, redisPrefix).catch(() => undefined);
  if (alive === undefined) {
    return { warningCode: "RUNTIME_UNKNOWN", warning: "runtime readiness could not be checked: Redis is unreachable" };
  }
  if (alive > 0) return undefined;
  return {
    warningCode: "RUNTIME_NO_WORKER",
    warning: "no runtime worker is alive: a deployed config is enforced only once a worker runs (SERVICES=worker)",
  };
}

/** One rule a refused payload breaks: a catalogue code, with its message (which may name the attribute). */
export interface Violation {
  readonly name: ErrorName;
  readonly message: string;
}

export const issueOf = (violation: Violation): CanDeployIssue => ({
  errorCode: String(ERRORS[violation.name].code),
  error: violation.message,
});

/** What a refused payload's `context` says: each zod issue as "<field path>: <message>". */
export const issuesContext = (issues: readonly z.core.$ZodIssue[]): string =>
  issues.map((issue) => `${issue.path.join(".") || "body"}: ${issue.message}`).join("; ");

/** 400 in the envelope, with `canDeploy` listing every violation; the first one gives the envelope's code. */
export function payloadRejection(violations: readonly [Violation, ...Violation[]], context: string): ApiError {
  const [first] = violations;
  return new ApiError(first.name, { message: first.message, context, body: { canDeploy: buildCanDeployReport(violations.map(issueOf)) } });
}
