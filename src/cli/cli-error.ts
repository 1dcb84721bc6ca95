import { Prisma } from "../generated/prisma/client.js";
import type { TenancyService } from "../tenancy/tenancy.service.js";

/** An operational failure the operator can act on: printed as one line, exit code 1. */
export class CliError extends Error {}

/** An option parser that accepts only `allowed` values, failing as an operational error (not a usage one). */
export function oneOf<T extends string>(what: string, allowed: readonly T[]) {
  return (value: string): T => {
    if ((allowed as readonly string[]).includes(value)) return value as T;
    throw new CliError(`invalid ${what} "${value}" (expected one of ${allowed.join(", ")})`);
  };
}

/** An option parser for a whole number of at least `min`. */
export function wholeNumber(what: string, min: number) {
  return (value: string): number => {
    const number = Number(value);
    if (/^\d+$/.test(value.trim()) && Number.isSafeInteger(number) && number >= min) return number;
    throw new CliError(`invalid ${what} "${value}" (expected a whole number of at least ${min})`);
  };
}

/** An option parser for an ISO 8601 date and time (with a time zone) after now. */
export function futureTime(what: string) {
  return (value: string): Date => {
    const time = new Date(value);
    if (!/T\d{2}:\d{2}/.test(value) || !/(Z|[+-]\d{2}:?\d{2})$/i.test(value.trim()) || Number.isNaN(time.getTime())) {
      throw new CliError(`invalid ${what} "${value}" (expected an ISO 8601 time with a zone, e.g. 2026-12-31T18:00:00Z)`);
    }
    if (time.getTime() <= Date.now()) throw new CliError(`invalid ${what} "${value}": it is not in the future`);
    return time;
  };
}

export async function requireOrg(tenancy: TenancyService, orgId: string) {
  const org = await tenancy.findOrg(orgId);
  if (!org) throw new CliError(`org ${orgId} does not exist`);
  return org;
}

/** Relies on the unique constraint rather than a prior lookup, so two concurrent creates cannot both succeed. */
export async function failOnConflict<T>(write: Promise<T>, message: string): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002") throw new CliError(message);
    throw error;
  }
}
