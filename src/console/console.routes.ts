import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import express, { Router, type Express } from "express";
import { z } from "zod";
import { adminGuard } from "../http/admin-session.js";
import { pageFile, PUBLIC_DIR, selfOnly, staticFiles } from "../http/pages.js";
import type { CallService } from "../runtime/accept/call.service.js";
import { ApiError } from "../shared/errors/api-error.js";
import type { ConsoleReader } from "./console-reader.js";

export const CONSOLE_BASE_PATH = "/console";

const UPLOT_DIR = dirname(createRequire(import.meta.url).resolve("uplot/package.json"));
const UPLOT_ASSETS = ["uPlot.iife.min.js", "uPlot.min.css"];
const PAGE_FILES = ["console.js", "console.css"];
/** Who a replay from the console is recorded as. */
const CONSOLE_PRINCIPAL = { clientId: "sluice-console", name: "operator console" };

/**
 * The operator console (mounted only when ADMIN_TOKEN is set, behind the same guard as Bull Board): a page at
 * /console and the JSON API it polls under /console/api. Everything it shows comes from ConsoleReader, which leaves
 * out calls' headers and bodies.
 */
export function consoleApp(deps: { token: string; reader: ConsoleReader; calls: CallService }): Express {
  const router = Router();
  router.get("/", selfOnly, (_req, res) => res.sendFile(pageFile("console", "index.html")));
  router.use("/assets", selfOnly, staticFiles(join(UPLOT_DIR, "dist"), UPLOT_ASSETS), staticFiles(new URL("console/", PUBLIC_DIR), PAGE_FILES));

  router.get("/api/orgs", async (_req, res) => {
    res.json({ orgs: await deps.reader.orgs() });
  });
  router.get("/api/configs/:uid/live", async (req, res) => {
    const uid = String(req.params["uid"]);
    if (!z.uuid().safeParse(uid).success) throw new ApiError("NOT_FOUND", { context: `config ${uid}` });
    res.json(await deps.reader.live(uid));
  });
  router.get("/api/orgs/:orgId/failures", async (req, res) => {
    res.json({ calls: await deps.reader.failures(String(req.params["orgId"])) });
  });
  router.post("/api/orgs/:orgId/calls/:callId/replay", async (req, res) => {
    const principal = { ...CONSOLE_PRINCIPAL, orgId: String(req.params["orgId"]) };
    res.status(202).json(await deps.calls.replay(principal, String(req.params["callId"])));
  });

  const app = express();
  app.disable("x-powered-by");
  app.use(CONSOLE_BASE_PATH, adminGuard(deps.token, CONSOLE_BASE_PATH), router);
  return app;
}
