import express, { type Request, type RequestHandler } from "express";
import { ApiError } from "../../shared/errors/api-error.js";

export const BODY_LIMIT = "1mb";

export const tooLargeMessage = (limit: string) => `request body exceeds the ${limit.replace(/mb$/, " MB")} limit`;

const parser = (limit: string) =>
  express.json({
    limit,
    // Accept any JSON value (null, arrays, strings) so the payload validator can name the problem.
    strict: false,
    type: () => true,
  });

function hasBody(req: Request): boolean {
  const length = req.get("content-length");
  return (length !== undefined && length !== "0") || req.get("transfer-encoding") !== undefined;
}

/**
 * Parses a JSON request body (CONTRACT §1): 415 unless Content-Type is application/json, 413 past `limit` (1 MB).
 * `onMalformed` builds the error for unparseable JSON, which each feature words in its own codes.
 */
export function jsonBody(onMalformed: (detail: string) => ApiError, limit = BODY_LIMIT): RequestHandler {
  const parse = parser(limit);
  return (req, res, next) => {
    if (!hasBody(req)) return next();
    if (!req.is("application/json")) return next(new ApiError("UNSUPPORTED_MEDIA_TYPE"));
    parse(req, res, (error?: unknown) => {
      if (!error) return next();
      const type = (error as { type?: string }).type;
      if (type === "entity.too.large") {
        return next(new ApiError("PAYLOAD_TOO_LARGE", { message: tooLargeMessage(limit), cause: error }));
      }
      if (type === "entity.parse.failed") return next(onMalformed((error as Error).message));
      if (type === "charset.unsupported" || type === "encoding.unsupported") {
        return next(new ApiError("UNSUPPORTED_MEDIA_TYPE", { cause: error }));
      }
      next(error);
    });
  };
}
