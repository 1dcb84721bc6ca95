import type { Router } from "express";
import { authoringRouter } from "../authoring/authoring-router.js";
import type { AuthenticationDeps } from "../tenancy/authenticate.js";
import type { RuntimeStatusReader } from "../runtime/runtime-status.js";
import { CAPPING_OPERATIONS } from "./capping-config.operations.js";
import type { CappingConfigService } from "./capping-config.service.js";
import { malformedJson } from "./endpoint-config-payload.js";

/**
 * The eight operations (capping-config.operations.ts), behind authentication and the production sandbox. Mounted
 * before the throttling router on the same base paths, it handles only its own paths.
 */
export function cappingConfigRouter(auth: AuthenticationDeps, service: CappingConfigService, runtime: RuntimeStatusReader): Router {
  return authoringRouter(auth, {
    operations: CAPPING_OPERATIONS,
    deps: { service, runtime },
    malformedJson,
    scope: ["/endpointConfigs", "/list/endpointConfigs"],
  });
}
