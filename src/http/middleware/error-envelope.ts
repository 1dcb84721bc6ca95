import type { ErrorRequestHandler, RequestHandler } from "express";
import { ApiError } from "../../shared/errors/api-error.js";
import { ERRORS, type ErrorName } from "../../shared/errors/catalogue.js";
import { isDependencyUnavailable } from "../../shared/errors/dependency-down.js";
import type { Logger } from "../../shared/logger.js";

export const SERVICE_NAME = "sluice-authoring-api";
const DEPENDENCY_RETRY_AFTER_SECONDS = "5";

/** Turns whatever a route threw into an ApiError: client mistakes keep their code, the rest become 503 or 5xx. */
function toApiError(error: unknown, fallback: ErrorName): ApiError {
  if (error instanceof ApiError) return error;
  // Express' router could not percent-decode a path parameter (`/throttlingConfigs/%E0%A4%A`): no route names that.
  if (error instanceof URIError) return new ApiError("ROUTE_NOT_FOUND", { context: error.message });
  if (isDependencyUnavailable(error)) {
    return new ApiError("DEPENDENCY_UNAVAILABLE", {
      cause: error,
      headers: { "Retry-After": DEPENDENCY_RETRY_AFTER_SECONDS },
    });
  }
  return new ApiError(fallback, { cause: error });
}

/**
 * The one place errors become responses: `{ status, error: "<JSON string>", requestId }` exactly as the seed shows,
 * plus any extra fields the error carries (`canDeploy` for rejected payloads, CONTRACT §4–5).
 */
export function errorEnvelope(deps: { version: string; logger: Logger }): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const apiError = toApiError(error, res.locals.unexpectedError ?? "INTERNAL");
    const { definition } = apiError;
    if (definition.status >= 500) {
      deps.logger.error({ err: error, requestId: res.locals.requestId, code: definition.code }, "request failed");
    }
    const sandboxName = req.get("x-sandbox-name");
    const inner = {
      code: definition.code,
      family: definition.family,
      message: apiError.message,
      service: SERVICE_NAME,
      version: deps.version,
      context: apiError.context ?? `${req.method} ${req.path}`,
      // The seed's 4000 example carries no schema; every other error names the sandbox's collection.
      ...(sandboxName && definition.code !== ERRORS.INTERNAL.code ? { schema: `throttlingConfigs$${sandboxName}` } : {}),
    };
    if (res.headersSent) return res.end();
    res.status(definition.status).set(apiError.headers).json({
      status: definition.status,
      error: JSON.stringify(inner),
      requestId: res.locals.requestId,
      ...apiError.body,
    });
  };
}

export const routeNotFound: RequestHandler = (req, _res, next) => {
  next(new ApiError("ROUTE_NOT_FOUND", { context: `${req.method} ${req.path}` }));
};
