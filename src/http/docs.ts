import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { Router } from "express";
import { parse } from "yaml";
import { pageFile, PUBLIC_DIR, selfOnly, staticFiles } from "./pages.js";

export const OPENAPI_PATH = new URL("../../openapi.yaml", import.meta.url);

const SWAGGER_UI_DIR = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
const SWAGGER_UI_ASSETS = ["swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"];

/**
 * CONTRACT §8: an interactive reference at /docs (Swagger UI, from the swagger-ui-dist package, rendering
 * /docs/openapi.json), and the checked-in document as YAML at /docs/openapi.yaml and JSON at /docs/openapi.json.
 */
export function docsRouter(): Router {
  const yaml = readFileSync(OPENAPI_PATH, "utf8");
  const json = parse(yaml) as unknown;
  const router = Router();
  router.get("/docs", selfOnly, (_req, res) => {
    res.sendFile(pageFile("docs", "index.html"));
  });
  router.use("/docs/assets", selfOnly, staticFiles(SWAGGER_UI_DIR, SWAGGER_UI_ASSETS), staticFiles(new URL("docs/", PUBLIC_DIR), ["reference.js"]));
  router.get("/docs/openapi.yaml", (_req, res) => {
    res.type("application/yaml").send(yaml);
  });
  router.get("/docs/openapi.json", (_req, res) => {
    res.json(json);
  });
  return router;
}
