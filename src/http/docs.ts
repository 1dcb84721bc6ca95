import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Router, type RequestHandler } from "express";
import { parse } from "yaml";
import { staticFiles } from "./static-files.js";

export const OPENAPI_PATH = new URL("../../openapi.yaml", import.meta.url);
/** Pages Sluice serves itself (the API reference, the console), outside src/ so the image carries them as they are. */
export const PUBLIC_DIR = new URL("../../public/", import.meta.url);

const SWAGGER_UI_DIR = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
const SWAGGER_UI_ASSETS = ["swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"];

/**
 * Pages that load nothing from another origin: the browser refuses it, so they work offline and leak nothing.
 * Inline styles are allowed because Swagger UI and uPlot set element styles.
 */
export const selfOnly: RequestHandler = (_req, res, next) => {
  res.set(
    "Content-Security-Policy",
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
  );
  next();
};

/**
 * CONTRACT §8: an interactive reference at /docs (Swagger UI, from the swagger-ui-dist package, rendering
 * /docs/openapi.json), and the checked-in document as YAML at /docs/openapi.yaml and JSON at /docs/openapi.json.
 */
export function docsRouter(): Router {
  const yaml = readFileSync(OPENAPI_PATH, "utf8");
  const json = parse(yaml) as unknown;
  const page = new URL("docs/", PUBLIC_DIR);
  const router = Router();
  router.get("/docs", selfOnly, (_req, res) => {
    res.sendFile(fileURLToPath(new URL("index.html", page)));
  });
  router.use("/docs/assets", selfOnly, staticFiles(SWAGGER_UI_DIR, SWAGGER_UI_ASSETS), staticFiles(page, ["reference.js"]));
  router.get("/docs/openapi.yaml", (_req, res) => {
    res.type("application/yaml").send(yaml);
  });
  router.get("/docs/openapi.json", (_req, res) => {
    res.json(json);
  });
  return router;
}
