import { Router, type RequestHandler } from "express";
import { jsonBody } from "../http/middleware/json-body.js";
import { mountOperations, type Operation } from "../http/operation.js";
import type { ApiError } from "../shared/errors/api-error.js";
import { authenticate, type AuthenticationDeps } from "../tenancy/authenticate.js";
import { resolveProductionSandbox } from "../tenancy/production-sandbox.js";

export interface AuthoringFeature<Deps> {
  readonly operations: readonly Operation<Deps>[];
  readonly deps: Deps;
  /** The error for a body that is not JSON, in the feature's own codes. */
  readonly malformedJson: (detail: string) => ApiError;
  /**
   * The path prefixes the feature owns, when it shares its base path with a feature mounted after it: other paths
   * pass through untouched. Without it, every path under the base path is authenticated (CONTRACT §2), so an
   * unknown route answers 404 only to a valid credential.
   */
  readonly scope?: readonly string[];
}

/**
 * A feature's operations under an authoring base path, behind authentication (counted in the org's `authoring` class,
 * CONTRACT §7), the JSON body and the production sandbox.
 */
export function authoringRouter<Deps>(auth: AuthenticationDeps, feature: AuthoringFeature<Deps>): Router {
  const router = Router();
  const productionSandbox: RequestHandler = async (req, res, next) => {
    res.locals.sandbox = await resolveProductionSandbox(auth.tenants, req, res.locals.principal!.orgId);
    next();
  };
  const preamble = [authenticate(auth, "authoring"), jsonBody(feature.malformedJson), productionSandbox];
  if (feature.scope) router.use([...feature.scope], ...preamble);
  else router.use(...preamble);
  mountOperations(router, feature.operations, feature.deps);
  return router;
}
