import { readFileSync } from "node:fs";
import { Router } from "express";
import { parse } from "yaml";

export const OPENAPI_PATH = new URL("../../openapi.yaml", import.meta.url);

/** Serves the checked-in OpenAPI document: YAML at /docs, JSON at /docs/openapi.json. */
export function docsRouter(): Router {
  const yaml = readFileSync(OPENAPI_PATH, "utf8");
  const json = parse(yaml) as unknown;
  const router = Router();
  router.get(["/docs", "/docs/openapi.yaml"], (_req, res) => {
    res.type("application/yaml").send(yaml);
  });
  router.get("/docs/openapi.json", (_req, res) => {
    res.json(json);
  });
  return router;
}
