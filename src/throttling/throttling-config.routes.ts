import type { Router } from "express";
import { authoringRouter } from "../authoring/authoring-router.js";
import type { AuthenticationDeps } from "../tenancy/authenticate.js";
import type { RuntimeStatusReader } from "../runtime/runtime-status.js";
import { THROTTLING_OPERATIONS } from "./throttling-config.operations.js";
import type { ThrottlingConfigService } from "./throttling-config.service.js";
import { malformedJson } from "./validate-payload.js";

/** The eight operations (throttling-config.operations.ts), behind authentication and the production sandbox. */
export function throttlingConfigRouter(auth: AuthenticationDeps, service: ThrottlingConfigService, runtime: RuntimeStatusReader): Router {
  return authoringRouter(auth, { operations: THROTTLING_OPERATIONS, deps: { service, runtime }, malformedJson });
}
