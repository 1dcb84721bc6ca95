import type { ThrottlingConfig } from "../generated/prisma/client.js";
import type { RuntimeStatus, ThrottlingConfigResource } from "./throttling-config.schema.js";

type Method = ThrottlingConfigResource["methods"][number];

/**
 * The stored row as the API shows it (CONTRACT §3); absent optional values are omitted, not null.
 * `runtime` is the block GET and list add for a deployed (or draining) config.
 */
export function toResource(row: ThrottlingConfig, runtime?: RuntimeStatus): ThrottlingConfigResource {
  return {
    _id: `${row.uid}_${row.sandboxId}`,
    uid: row.uid,
    ...(row.name != null ? { name: row.name } : {}),
    ...(row.description != null ? { description: row.description } : {}),
    urlPattern: row.urlPattern,
    methods: row.methods as Method[],
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
    metadata: {
      createdBy: row.createdBy,
      createdById: row.createdById,
      createdAt: row.createdAt.toISOString(),
      lastModifiedBy: row.lastModifiedBy,
      lastModifiedById: row.lastModifiedById,
      lastModifiedAt: row.lastModifiedAt.toISOString(),
      ...(row.lastDeployedAt
        ? {
            lastDeployedBy: row.lastDeployedBy ?? "",
            lastDeployedById: row.lastDeployedById ?? "",
            lastDeployedAt: row.lastDeployedAt.toISOString(),
          }
        : {}),
    },
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
    methods: values.methods as Method[],
    maxThroughput: values.maxThroughput,
  };
}
