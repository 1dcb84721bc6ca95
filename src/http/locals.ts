import type { ErrorName } from "../shared/errors/catalogue.js";
import type { Principal, SandboxRef } from "../tenancy/principal.js";

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      requestId: string;
      /** Set by `authenticate`. */
      principal?: Principal;
      /** Set by routes that need a production sandbox (`x-sandbox-name`). */
      sandbox?: SandboxRef;
      /** The code a route answers with when it fails unexpectedly (1457–1464, `ERR_ENDPOINTCONFIG_*_FAILED`); 4000 when unset. */
      unexpectedError?: ErrorName;
    }
  }
}
