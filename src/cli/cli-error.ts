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
