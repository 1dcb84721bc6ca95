import type { HttpMethod } from "../authoring/http-methods.js";
import { metadataOf, resourceId } from "../authoring/metadata.js";
import type { RuntimeStatus } from "../authoring/runtime-status.schema.js";
import type { ThrottlingConfig } from "../generated/prisma/client.js";
import type { ThrottlingConfigResource } from "./throttling-config.schema.js";

/**
 * The stored row as the API shows it (CONTRACT §3); absent optional values are omitted, not null.
 * `runtime` is the block GET and list add for a deployed (or draining) config.
 */
export function toResource(row: ThrottlingConfig, runtime?: RuntimeStatus): ThrottlingConfigResource {
  return {
    _id: resourceId(row),
    uid: row.uid,
    ...(row.name != null ? { name: row.name } : {}),
    ...(row.description != null ? { description: row.description } : {}),
    urlPattern: row.urlPattern,
    methods: row.methods as HttpMethod[],
    maxThroughput: row.maxThroughput,
    orgId: row.orgId,
    sandboxId: row.sandboxId,
    sandboxName: row.sandboxName,
    state: row.state,
    hasBeenDeployed: row.hasBeenDeployed,
    authoringFormatVersion: "1.0",
    ...(row.version != null ? { version: row.version } : {}),
    ...(row.deployedConfig != null ? { deployedConfig: row.deployedConfig as ThrottlingConfigResource["deployedConfig"] } : {}),
    ...(runtime ? { runtime } : {}),
    metadata: metadataOf(row),
  };
}

/** The values the runtime enforces, frozen at deploy time (and refreshed by an update while deployed). */
export function deployedSnapshot(
  values: Pick<ThrottlingConfig, "name" | "description" | "urlPattern" | "methods" | "maxThroughput">,
): NonNullable<ThrottlingConfigResource["deployedConfig"]> {
  return {
    ...(values.name != null ? { name: values.name } : {}),
    ...(values.description != null ? { description: values.description } : {}),
    urlPattern: values.urlPattern,
    methods: values.methods as HttpMethod[],
    maxThroughput: values.maxThroughput,
  };
}
