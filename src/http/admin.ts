import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { ExpressAdapter } from "@bull-board/express";
import express, { type Express, type RequestHandler } from "express";
import type { Db } from "../db/prisma.js";
import { throttledLane, type Lane } from "../runtime/keys.js";
import type { RuntimeQueues } from "../runtime/queues.js";
import type { UnthrottledLanes } from "../runtime/unthrottled-lanes.js";
import { adminGuard } from "./admin-session.js";

export const ADMIN_BASE_PATH = "/admin/queues";

/**
 * Bull Board at /admin/queues (mount only when ADMIN_TOKEN is set), behind the admin guard. The board is read-only:
 * removing or retrying a job by hand would bypass the call records and the org's capacity counter.
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
  admin.use(ADMIN_BASE_PATH, adminGuard(deps.token, ADMIN_BASE_PATH), refreshQueues, boardApp);
  return admin;
}
