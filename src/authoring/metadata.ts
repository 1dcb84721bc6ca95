import { z } from "zod";
import type { Principal } from "../tenancy/principal.js";

/** Who created, last modified and last deployed a config, and when (CONTRACT §2); each feature names its component. */
export const authoringMetadata = z.object({
  createdBy: z.string(),
  createdById: z.string(),
  createdAt: z.iso.datetime(),
  lastModifiedBy: z.string(),
  lastModifiedById: z.string(),
  lastModifiedAt: z.iso.datetime(),
  lastDeployedBy: z.string().optional(),
  lastDeployedById: z.string().optional(),
  lastDeployedAt: z.iso.datetime().optional(),
});

export type AuthoringMetadata = z.infer<typeof authoringMetadata>;

/** The columns every stored config has for its metadata. */
export interface AuthoredRow {
  createdBy: string;
  createdById: string;
  createdAt: Date;
  lastModifiedBy: string;
  lastModifiedById: string;
  lastModifiedAt: Date;
  lastDeployedBy: string | null;
  lastDeployedById: string | null;
  lastDeployedAt: Date | null;
}

/** A resource's `_id`: `<uid>_<sandboxId>` (CONTRACT §3). */
export const resourceId = (row: { uid: string; sandboxId: string }): string => `${row.uid}_${row.sandboxId}`;

/** The stored columns as `metadata`; the lastDeployed* fields only once the config was deployed. */
export function metadataOf(row: AuthoredRow): AuthoringMetadata {
  return {
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
  };
}

/** The metadata columns a create by `actor` sets (both timestamps default to the insert's time). */
export const authoredBy = (actor: Principal) => ({
  createdBy: actor.name,
  createdById: actor.clientId,
  lastModifiedBy: actor.name,
  lastModifiedById: actor.clientId,
});

/** The metadata columns an update by `actor` sets. */
export const modifiedBy = (actor: Principal) => ({
  lastModifiedBy: actor.name,
  lastModifiedById: actor.clientId,
  lastModifiedAt: new Date(),
});

/** The metadata columns a deploy by `actor` sets. */
export const deployedBy = (actor: Principal) => ({
  lastDeployedBy: actor.name,
  lastDeployedById: actor.clientId,
  lastDeployedAt: new Date(),
});
