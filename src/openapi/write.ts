import { writeFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { stringify } from "yaml";
import { OPENAPI_PATH } from "../http/docs.js";
import { buildOpenApiDocument } from "./document.js";

/** The document as YAML: key order is the builder's (deterministic), no anchors, no folded lines. */
export function renderOpenApiYaml(): string {
  return stringify(buildOpenApiDocument(), { aliasDuplicateObjects: false, lineWidth: 0 });
}

// `npm run openapi` regenerates the checked-in openapi.yaml.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(OPENAPI_PATH, renderOpenApiYaml());
  console.log(`wrote ${fileURLToPath(OPENAPI_PATH)}`);
}
