import { createHmac } from "node:crypto";
import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { ExpressAdapter } from "@bull-board/express";
import express, { type Express, type Request, type RequestHandler, type Response } from "express";
import type { Db } from "../db/prisma.js";
import { throttledLane, type Lane } from "../runtime/keys.js";
import type { RuntimeQueues } from "../runtime/queues.js";
import type { UnthrottledLanes } from "../runtime/unthrottled-lanes.js";
import { ApiError } from "../shared/errors/api-error.js";
import { bearerToken, sameSecret } from "./bearer.js";

export const ADMIN_BASE_PATH = "/admin/queues";
const COOKIE_NAME = "sluice_admin";
const COOKIE_MAX_AGE_S = 12 * 60 * 60;
/** Query parameter a browser's first visit carries; redacted from request logs. */
const TOKEN_PARAM = "token";

/**
 * Bull Board at /admin/queues (mount only when ADMIN_TOKEN is set). Access takes `Authorization: Bearer
 * <ADMIN_TOKEN>`, or, for a browser, the cookie set by opening `/admin/queues?token=<ADMIN_TOKEN>` once (the
 * answer is a redirect to the same page without the token). The cookie holds an HMAC of the token, not the token.
 * The board is read-only: removing or retrying a job by hand would bypass the call records and the org's
 * capacity counter.
 */
export function adminApp(deps: { token: string; db: Db; queues: RuntimeQueues; unthrottled: UnthrottledLanes }): Express {
  const board = new ExpressAdapter().setBasePath(ADMIN_BASE_PATH);
  const { replaceQueues } = createBullBoard({ queues: [], serverAdapter: board });
  const boardApp = board.getRouter() as Express;

  // Runtime versions come and go: the board's JSON API (which the UI polls) sees the lanes of this moment.
  const refreshQueues: RequestHandler = async (req, _res, next) => {
    if (!req.path.startsWith("/api/")) return next();
    const [unthrottled, versions] = await Promise.all([
      deps.unthrottled.live(),
      deps.db.runtimeVersion.findMany({
        select: { id: true, orgId: true, version: true, status: true },
        orderBy: [{ orgId: "asc" }, { version: "asc" }],
      }),
    ]);
    const adapter = (lane: Lane, description: string) =>
      new BullMQAdapter(deps.queues.get(lane), { readOnlyMode: true, description });
    replaceQueues([
      ...unthrottled.map(({ lane }) => adapter(lane, `org ${lane.orgId}: calls that match no deployed throttling config`)),
      ...versions.map((v) => adapter(throttledLane(v.id), `org ${v.orgId}, runtime version ${v.version} (${v.status})`)),
    ]);
    next();
  };

  // Sub-apps (not a Router), so Express restores the request's prototypes when a request falls through to a 404.
  const admin = express();
  for (const app of [admin, boardApp]) app.disable("x-powered-by");
  admin.use(ADMIN_BASE_PATH, adminGuard(deps.token), refreshQueues, boardApp);
  return admin;
}

function adminGuard(token: string): RequestHandler {
  const cookieValue = createHmac("sha256", token).update("sluice admin session").digest("base64url");
  return (req, res, next) => {
    const fromQuery = req.query[TOKEN_PARAM];
    if (typeof fromQuery === "string") {
      if (!sameSecret(fromQuery, token)) return next(unauthorized());
      setSessionCookie(req, res, cookieValue);
      // Built from the mounted path, not originalUrl: `//admin/queues` would redirect to another host.
      return res.redirect(303, withoutTokenParam(req.baseUrl + req.url));
    }
    const bearer = bearerToken(req);
    const cookie = readCookie(req, COOKIE_NAME);
    const allowed = bearer !== undefined ? sameSecret(bearer, token) : cookie !== undefined && sameSecret(cookie, cookieValue);
    next(allowed ? undefined : unauthorized());
  };
}

/** What a request without the admin token or session cookie is told. */
export const ADMIN_UNAUTHORIZED = `admin: send Authorization: Bearer <ADMIN_TOKEN> (in a browser, open ${ADMIN_BASE_PATH}?${TOKEN_PARAM}=<ADMIN_TOKEN> once)`;

const unauthorized = () => new ApiError("UNAUTHORIZED", { message: ADMIN_UNAUTHORIZED });

function setSessionCookie(req: Request, res: Response, value: string): void {
  res.cookie(COOKIE_NAME, value, {
    httpOnly: true,
    sameSite: "strict",
    secure: req.secure,
    path: ADMIN_BASE_PATH,
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
