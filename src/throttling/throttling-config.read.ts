import type { SqlPool } from "../db/prisma.js";
import type { ThrottlingConfig } from "../generated/prisma/client.js";
import type { RuntimeStatus } from "../authoring/runtime-status.schema.js";

/** The config's latest runtime version, for its `runtime` block. */
export interface LatestRuntimeVersion {
  id: string;
  version: number;
  status: RuntimeStatus["status"];
  drainUntil: Date | null;
}

// Prisma's DateTime columns are `timestamp(3)` holding UTC: read as timestamptz so the process' zone cannot shift them.
const utc = (column: string, as: string) => `${column} AT TIME ZONE 'UTC' AS "${as}"`;

/** GET's read (CONTRACT §7 asks for speed): the config and its latest runtime version in one prepared statement. */
const GET_CONFIG = {
  name: "sluice-get-throttling-config",
  text: `SELECT c.uid, c.org_id AS "orgId", c.sandbox_id AS "sandboxId", c.sandbox_name AS "sandboxName", c.name, c.description,
  c.url_pattern AS "urlPattern", c.methods, c.max_throughput AS "maxThroughput", c.state::text AS state,
  c.has_been_deployed AS "hasBeenDeployed", c.version, c.deployed_config AS "deployedConfig",
  c.created_by AS "createdBy", c.created_by_id AS "createdById", ${utc("c.created_at", "createdAt")},
  c.last_modified_by AS "lastModifiedBy", c.last_modified_by_id AS "lastModifiedById", ${utc("c.last_modified_at", "lastModifiedAt")},
  c.last_deployed_by AS "lastDeployedBy", c.last_deployed_by_id AS "lastDeployedById", ${utc("c.last_deployed_at", "lastDeployedAt")},
  r.id AS "runtimeId", r.version AS "runtimeVersion", r.status::text AS "runtimeStatus", ${utc("r.drain_until", "runtimeDrainUntil")}
FROM throttling_configs c
LEFT JOIN LATERAL (
  SELECT id, version, status, drain_until FROM runtime_versions WHERE config_uid = c.uid ORDER BY version DESC LIMIT 1
) r ON true
WHERE c.uid = $1::uuid AND c.org_id = $2`,
};

type Row = ThrottlingConfig & { runtimeId: string | null; runtimeVersion: number; runtimeStatus: RuntimeStatus["status"]; runtimeDrainUntil: Date | null };

/** The org's config `uid` (a uuid) and its latest runtime version, or undefined. */
export async function readThrottlingConfig(
  sql: SqlPool,
  orgId: string,
  uid: string,
): Promise<{ config: ThrottlingConfig; runtime?: LatestRuntimeVersion } | undefined> {
  const { rows } = await sql.query<Row>({ ...GET_CONFIG, values: [uid, orgId] });
  const row = rows[0];
  if (!row) return undefined;
  const { runtimeId, runtimeVersion, runtimeStatus, runtimeDrainUntil, ...config } = row;
  return {
    config,
    ...(runtimeId ? { runtime: { id: runtimeId, version: runtimeVersion, status: runtimeStatus, drainUntil: runtimeDrainUntil } } : {}),
  };
}
