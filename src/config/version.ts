import { readFileSync } from "node:fs";

/** Version reported in error envelopes: SLUICE_VERSION (e.g. a git sha set at build time) or package.json's. */
export function resolveVersion(override: string | undefined): string {
  if (override) return override;
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}
