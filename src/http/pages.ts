import { fileURLToPath } from "node:url";
import express, { type RequestHandler } from "express";

/** Pages Sluice serves itself (the API reference, the console), outside src/ so the image carries them as they are. */
export const PUBLIC_DIR = new URL("../../public/", import.meta.url);

/**
 * For those pages: nothing may load from another origin, so they work offline and leak nothing. Inline styles are
 * allowed because Swagger UI and uPlot set element styles.
 */
export const selfOnly: RequestHandler = (_req, res, next) => {
  res.set(
    "Content-Security-Policy",
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
  );
  next();
};

/** A page's HTML file under PUBLIC_DIR, as a path for `res.sendFile`. */
export const pageFile = (page: string, file: string): string => fileURLToPath(new URL(`${page}/${file}`, PUBLIC_DIR));

/**
 * Serves exactly the files `names` lists from `dir` (a file URL or path), and passes anything else on: a package's
 * dist folder holds far more than a page loads.
 */
export function staticFiles(dir: URL | string, names: readonly string[]): RequestHandler {
  const serve = express.static(dir instanceof URL ? fileURLToPath(dir) : dir, { index: false });
  return (req, res, next) => (names.includes(req.path.slice(1)) ? serve(req, res, next) : next());
}
