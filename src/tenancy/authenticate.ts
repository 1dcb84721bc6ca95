import type { RequestHandler } from "express";
import type { Db } from "../db/prisma.js";
import { bearerToken } from "../http/bearer.js";
import { ApiError } from "../shared/errors/api-error.js";
import { tokenMatches } from "./token.js";

/**
 * CONTRACT §2: a valid, unrevoked credential (Bearer token + x-api-key client id) or 401;
 * an x-gw-ims-org-id naming the credential's org or 403.
 */
export function authenticate(db: Db): RequestHandler {
  return async (req, res, next) => {
    const token = bearerToken(req);
    const clientId = req.get("x-api-key");
    if (!token || !clientId) throw new ApiError("UNAUTHORIZED");

    const credential = await db.credential.findUnique({ where: { clientId } });
    if (!credential || credential.revokedAt || !tokenMatches(token, credential.tokenHash)) {
      throw new ApiError("UNAUTHORIZED");
    }
    if (req.get("x-gw-ims-org-id") !== credential.orgId) throw new ApiError("ORG_MISMATCH");

    res.locals.principal = { clientId: credential.clientId, name: credential.name, orgId: credential.orgId };
    next();
  };
}
