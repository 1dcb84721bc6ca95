import { Router } from "express";
import type { Db } from "../db/prisma.js";
import { mountOperations } from "../http/operation.js";
import { jsonBody } from "../http/middleware/json-body.js";
import type { RuntimeStatusReader } from "../runtime/runtime-status.js";
import { authenticate } from "../tenancy/authenticate.js";
import { resolveProductionSandbox } from "../tenancy/production-sandbox.js";
import { THROTTLING_OPERATIONS } from "./throttling-config.operations.js";
import type { ThrottlingConfigService } from "./throttling-config.service.js";
import { malformedJson } from "./validate-payload.js";

/** The eight operations (throttling-config.operations.ts), behind authentication and the production sandbox. */
export function throttlingConfigRouter(db: Db, service: ThrottlingConfigService, runtime: RuntimeStatusReader): Router {
  const router = Router();
  router.use(authenticate(db), jsonBody(malformedJson), async (req, res, next) => {
    res.locals.sandbox = await resolveProductionSandbox(db, req, res.locals.principal!.orgId);
    next();
  });
  mountOperations(router, THROTTLING_OPERATIONS, { service, runtime });
  return router;
}
