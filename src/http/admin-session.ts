import { createHmac } from "node:crypto";
import type { Request, RequestHandler, Response } from "express";
import { ApiError } from "../shared/errors/api-error.js";
import { bearerToken, sameSecret } from "./bearer.js";

const COOKIE_NAME = "sluice_admin";
const COOKIE_MAX_AGE_S = 12 * 60 * 60;
/** Query parameter a browser's first visit carries; redacted from request logs. */
const TOKEN_PARAM = "token";

/** What a request to an operator page under `basePath` without the admin token or session cookie is told. */
export const adminUnauthorized = (basePath: string): string =>
  `admin: send Authorization: Bearer <ADMIN_TOKEN> (in a browser, open ${basePath}?${TOKEN_PARAM}=<ADMIN_TOKEN> once)`;

/** What a request to an operator page is told while the service has no ADMIN_TOKEN. */
export const adminDisabled = (basePath: string): string =>
  `admin: ${basePath} is disabled; set ADMIN_TOKEN (at least 16 characters) on the service to enable it`;

/** An operator page while ADMIN_TOKEN is unset: every request is told how to enable it (rather than "no such route"). */
export function adminDisabledGuard(basePath: string): RequestHandler {
  return (_req, _res, next) => next(new ApiError("UNAUTHORIZED", { message: adminDisabled(basePath) }));
}

/**
 * Guards an operator page mounted at `basePath` (Bull Board, the console). Access takes `Authorization: Bearer
 * <ADMIN_TOKEN>`, or, for a browser, the cookie set by opening `<basePath>?token=<ADMIN_TOKEN>` once (the answer is
 * a redirect to the same page without the token). The cookie holds an HMAC of the token, not the token, and is
 * scoped to `basePath`. Tokens are compared in constant time.
 */
export function adminGuard(token: string, basePath: string): RequestHandler {
  const cookieValue = createHmac("sha256", token).update("sluice admin session").digest("base64url");
  const unauthorized = () => new ApiError("UNAUTHORIZED", { message: adminUnauthorized(basePath) });
  return (req, res, next) => {
    const fromQuery = req.query[TOKEN_PARAM];
    if (typeof fromQuery === "string") {
      if (!sameSecret(fromQuery, token)) return next(unauthorized());
      setSessionCookie(req, res, cookieValue, basePath);
      // Built from the mounted path, not originalUrl: `//admin/queues` would redirect to another host.
      return res.redirect(303, withoutTokenParam(req.baseUrl + req.url));
    }
    const bearer = bearerToken(req);
    const cookie = readCookie(req, COOKIE_NAME);
    const allowed = bearer !== undefined ? sameSecret(bearer, token) : cookie !== undefined && sameSecret(cookie, cookieValue);
    next(allowed ? undefined : unauthorized());
  };
}

function setSessionCookie(req: Request, res: Response, value: string, path: string): void {
  res.cookie(COOKIE_NAME, value, {
    httpOnly: true,
    sameSite: "strict",
    secure: req.secure,
    path,
    maxAge: COOKIE_MAX_AGE_S * 1000,
  });
}

function readCookie(req: Request, name: string): string | undefined {
  for (const pair of (req.get("cookie") ?? "").split(";")) {
    const separator = pair.indexOf("=");
    if (separator > 0 && pair.slice(0, separator).trim() === name) return pair.slice(separator + 1).trim();
  }
  return undefined;
}

/** `url` (path and query) with the admin token parameter removed, e.g. for request logs. */
export function withoutTokenParam(url: string): string {
  const parsed = new URL(url, "http://sluice.invalid");
  if (!parsed.searchParams.has(TOKEN_PARAM)) return url;
  parsed.searchParams.delete(TOKEN_PARAM);
  return parsed.pathname + parsed.search;
}
