import type { LimitClass, Plan } from "../generated/prisma/client.js";

export type { LimitClass };
export const LIMIT_CLASSES = ["authoring", "runtime"] as const satisfies readonly LimitClass[];

/** Requests per minute on plan S (CONTRACT §7); the other plans multiply every ceiling. */
const PLAN_S_PER_MINUTE: Record<LimitClass, number> = { authoring: 300, runtime: 3_000 };
const PLAN_FACTOR: Record<Plan, number> = { S: 1, M: 4, L: 16, XL: 64 };

export const planCeiling = (plan: Plan, limitClass: LimitClass): number => PLAN_S_PER_MINUTE[limitClass] * PLAN_FACTOR[plan];

/** An operator's temporary ceiling for one class (`sluice org raise-limit`). */
export interface LimitRaiseTerms {
  readonly limitClass: LimitClass;
  readonly perMinute: number;
  readonly until: Date;
}

/** What decides an org's ceilings: its plan, and the raises not yet lapsed. */
export interface OrgLimitTerms {
  readonly plan: Plan;
  readonly raises: readonly LimitRaiseTerms[];
}

/** Requests per minute the org may make to a class at `now`: a raise until it lapses, else the plan's. */
export function ceilingOf(terms: OrgLimitTerms, limitClass: LimitClass, now = Date.now()): number {
  const raise = terms.raises.find((r) => r.limitClass === limitClass && r.until.getTime() > now);
  return raise ? raise.perMinute : planCeiling(terms.plan, limitClass);
}
