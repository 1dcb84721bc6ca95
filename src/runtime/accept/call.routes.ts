import { Router } from "express";
import type { Db } from "../../db/prisma.js";
import { mountOperations } from "../../http/operation.js";
import { authenticate } from "../../tenancy/authenticate.js";
import { CALL_OPERATIONS } from "./call.operations.js";
import type { CallService } from "./call.service.js";

/** The call API's operations (call.operations.ts), behind authentication. */
export function callRouter(db: Db, calls: CallService): Router {
  const router = Router();
  router.use(authenticate(db));
  mountOperations(router, CALL_OPERATIONS, { calls });
  return router;
}
