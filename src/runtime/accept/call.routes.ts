import { Router } from "express";
import { mountOperations } from "../../http/operation.js";
import { authenticate, type AuthenticationDeps } from "../../tenancy/authenticate.js";
import { CALL_OPERATIONS } from "./call.operations.js";
import type { CallService } from "./call.service.js";

/** The call API's operations (call.operations.ts), behind authentication (counted in the org's `runtime` class). */
export function callRouter(auth: AuthenticationDeps, calls: CallService): Router {
  const router = Router();
  router.use(authenticate(auth, "runtime"));
  mountOperations(router, CALL_OPERATIONS, { calls });
  return router;
}
