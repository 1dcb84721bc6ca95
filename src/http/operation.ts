import type { ResponseConfig, RouteConfig, ZodRequestBody } from "@asteasolutions/zod-to-openapi";
import type { Request, RequestHandler, Response, Router } from "express";
import type { parameterRef } from "../openapi/components.js";
import type { ErrorName } from "../shared/errors/catalogue.js";

/**
 * One HTTP operation, declared once by the feature that owns it: the Express route (`mountOperations`) and the
 * OpenAPI entry (src/openapi) are both built from it. `Deps` are what its handler needs, given when mounted.
 */
export interface Operation<Deps> {
  readonly operationId: string;
  readonly method: "get" | "post" | "put" | "delete";
  /** Relative to the router's base path, in OpenAPI's syntax (`{uid}`). */
  readonly path: string;
  readonly summary: string;
  readonly description: string;
  readonly body?: ZodRequestBody;
  /** The query's schema: documented as query parameters; the handler parses it. */
  readonly query?: NonNullable<RouteConfig["request"]>["query"];
  /** Middleware the route runs before the handler (e.g. the body parser with the operation's size limit). */
  readonly before?: readonly RequestHandler[];
  readonly success: { readonly status: 200 | 202 | 204; readonly response: ResponseConfig };
  /** Operation-specific 400 codes (CONTRACT §5). */
  readonly rejects?: readonly ErrorName[];
  /** The payload is validated (CONTRACT §4). */
  readonly validatesPayload?: boolean;
  /** The code an unexpected failure answers with (1457–1464, `ERR_ENDPOINTCONFIG_*_FAILED`); 4000 when absent. */
  readonly failsWith?: ErrorName;
  readonly extraParameters?: readonly ReturnType<typeof parameterRef>[];
  /** Every parameter, for a feature that lists them per operation (the call API) rather than deriving them. */
  readonly parameters?: readonly ReturnType<typeof parameterRef>[];
  /** Every error response, for a feature that documents them per operation rather than deriving them. */
  readonly errors?: RouteConfig["responses"];
  handle(deps: Deps, req: Request, res: Response): Promise<void>;
}

/** What the OpenAPI document reads of an operation (everything but its handler). */
export type OperationDoc = Omit<Operation<never>, "handle">;

/**
 * Registers each operation on `router` at its path (`{name}` becomes Express' `:name`), in the given order; its
 * handler answers with the declared success status unless it fails.
 */
export function mountOperations<Deps>(router: Router, operations: readonly Operation<Deps>[], deps: Deps): void {
  for (const operation of operations) {
    const path = operation.path.replace(/\{(\w+)\}/g, ":$1");
    router[operation.method](path, ...(operation.before ?? []), async (req, res) => {
      if (operation.failsWith) res.locals.unexpectedError = operation.failsWith;
      res.status(operation.success.status);
      await operation.handle(deps, req, res);
    });
  }
}
