import type { Request, RequestHandler } from "express";
import { bearerToken } from "../http/bearer.js";
import { ApiError } from "../shared/errors/api-error.js";
import type { LimitClass } from "./api-limits.js";
import type { FailedAuths } from "./failed-auths.js";
import type { RequestLimits } from "./request-limits.js";
import type { KnownCredential, TenantDirectory } from "./tenant-directory.js";
import { tokenMatches } from "./token.js";

export interface AuthenticationDeps {
  tenants: TenantDirectory;
  failedAuths: FailedAuths;
  limits: RequestLimits;
}

/**
 * CONTRACT §2 and §7: an address past its failed authentications gets 429 before any lookup; then a valid,
 * unrevoked credential (Bearer token + x-api-key client id) or 401; the request counts against its org's ceiling
 * for `limitClass` (429 past it), which sets the limit headers; then an x-gw-ims-org-id naming the credential's
 * org or 403.
 */
export function authenticate(deps: AuthenticationDeps, limitClass: LimitClass): RequestHandler {
  return async (req, res, next) => {
    const address = req.ip ?? "";
    deps.failedAuths.refuseIfOver(address);
    const credential = await verifiedCredential(deps.tenants, req);
    if (!credential) {
      await deps.failedAuths.record(address);
      throw new ApiError("UNAUTHORIZED");
    }
    await deps.limits.admit(res, credential.orgId, credential.limits, limitClass);
    if (req.get("x-gw-ims-org-id") !== credential.orgId) throw new ApiError("ORG_MISMATCH");

    res.locals.principal = { clientId: credential.clientId, name: credential.name, orgId: credential.orgId };
    next();
  };
}

async function verifiedCredential(tenants: TenantDirectory, req: Request): Promise<KnownCredential | undefined> {
  const token = bearerToken(req);
  const clientId = req.get("x-api-key");
  if (!token || !clientId) return undefined;
  const credential = await tenants.credential(clientId);
  return credential && !credential.revoked && tokenMatches(token, credential.tokenHash) ? credential : undefined;
}
