import { fileURLToPath } from "node:url";
import express, { type RequestHandler } from "express";

/**
 * Serves exactly the files `names` lists from `dir` (a file URL or path), and passes anything else on: a package's
 * dist folder holds far more than a page loads.
 */
export function staticFiles(dir: URL | string, names: readonly string[]): RequestHandler {
  const serve = express.static(dir instanceof URL ? fileURLToPath(dir) : dir, { index: false });
  return (req, res, next) => (names.includes(req.path.slice(1)) ? serve(req, res, next) : next());
}
