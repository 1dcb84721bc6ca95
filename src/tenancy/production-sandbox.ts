import type { Request } from "express";
import { ApiError } from "../shared/errors/api-error.js";
import type { SandboxRef } from "./principal.js";
import type { TenantDirectory } from "./tenant-directory.js";

/**
 * The sandbox named by x-sandbox-name, which must be a production sandbox of the org (CONTRACT §2):
 * unknown → 500/4000 (as the seed documents), development → 400/1463.
 */
export async function resolveProductionSandbox(tenants: TenantDirectory, req: Request, orgId: string): Promise<SandboxRef> {
  const name = req.get("x-sandbox-name");
  if (!name) throw new ApiError("SANDBOX_REQUIRED");
  const sandbox = await tenants.sandbox(orgId, name);
  if (!sandbox) throw new ApiError("INTERNAL", { context: `unknown sandbox "${name}"` });
  if (sandbox.type !== "production") throw new ApiError("NON_PROD_SANDBOX");
  return { id: sandbox.id, name: sandbox.name };
}
