import type { Db } from "../db/prisma.js";
import type { SandboxType } from "../generated/prisma/client.js";
import type { OrgLimitTerms } from "./api-limits.js";
import type { OrgCache, OrgChangeFeed } from "./org-changes.js";

/** A credential as authentication needs it, with its org's limit terms. */
export interface KnownCredential {
  readonly clientId: string;
  readonly name: string;
  readonly orgId: string;
  readonly tokenHash: string;
  readonly revoked: boolean;
  readonly limits: OrgLimitTerms;
}

export interface KnownSandbox {
  readonly id: string;
  readonly name: string;
  readonly type: SandboxType;
}

/**
 * Credentials and sandboxes as every request reads them, cached in process and dropped when their org changes
 * (a revocation, a plan change or a raise is announced through Redis; see org-changes.ts). Unknown ones are not
 * cached: failed authentications have a limiter of their own.
 */
export class TenantDirectory {
  private readonly credentials: OrgCache<KnownCredential>;
  private readonly sandboxes: OrgCache<KnownSandbox>;

  constructor(
    private readonly db: Db,
    feed: OrgChangeFeed,
  ) {
    this.credentials = feed.cache("tenancy");
    this.sandboxes = feed.cache("tenancy");
  }

  credential(clientId: string): Promise<KnownCredential | undefined> {
    return this.credentials.get(clientId, async () => {
      const row = await this.db.credential.findUnique({
        where: { clientId },
        include: { org: { select: { plan: true, limitRaises: { select: { limitClass: true, perMinute: true, until: true } } } } },
      });
      if (!row) return undefined;
      const { org, revokedAt, ...credential } = row;
      return {
        orgId: row.orgId,
        value: { ...credential, revoked: revokedAt !== null, limits: { plan: org.plan, raises: org.limitRaises } },
      };
    });
  }

  sandbox(orgId: string, name: string): Promise<KnownSandbox | undefined> {
    return this.sandboxes.get(JSON.stringify([orgId, name]), async () => {
      const row = await this.db.sandbox.findUnique({ where: { orgId_name: { orgId, name } }, select: { id: true, name: true, type: true } });
      return row ? { orgId, value: row } : undefined;
    });
  }
}
