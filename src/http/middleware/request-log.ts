import type { RequestHandler } from "express";
import type { Logger } from "../../shared/logger.js";
import { withoutTokenParam } from "../admin-session.js";

/**
 * One line per request once its response is sent (or the client left first): method, path, status and time. Headers
 * are left out so credentials never reach the logs, and a `?token=` is cut from the path.
 */
export function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    res.on("close", () => {
      const url = req.originalUrl.includes("token=") ? withoutTokenParam(req.originalUrl) : req.originalUrl;
      const line = {
        requestId: res.locals.requestId,
        req: { method: req.method, url },
        res: { statusCode: res.statusCode },
        responseTime: Math.round(performance.now() - started),
      };
      if (res.writableFinished) logger.info(line, "request completed");
      else logger.warn(line, "request aborted");
    });
    next();
  };
}
