import { randomUUID } from "node:crypto";
import type { Db } from "../db/prisma.js";
import type { Plan, SandboxType } from "../generated/prisma/client.js";
import type { LimitClass } from "./api-limits.js";
import type { OrgChange } from "./org-changes.js";
import { hashToken, newClientId, newToken } from "./token.js";

export const PLANS = ["S", "M", "L", "XL"] as const satisfies readonly Plan[];
export const SANDBOX_TYPES = ["production", "development"] as const satisfies readonly SandboxType[];

/** Tells every API process that something it may have cached about an org changed (see org-changes.ts). */
export type AnnounceOrgChange = (change: OrgChange, orgId: string) => Promise<void>;

/** Operator-side management of orgs, sandboxes and credentials (used by the CLI and the dev seed). */
export class TenancyService {
  constructor(
    private readonly db: Db,
    private readonly announce: AnnounceOrgChange,
  ) {}

  createOrg(id: string, name: string = id, plan: Plan = "S") {
    return this.db.org.create({ data: { id, name, plan } });
  }

  findOrg(id: string) {
    return this.db.org.findUnique({ where: { id } });
  }

  /** The org with its raises not yet lapsed, or null. */
  showOrg(id: string) {
    return this.db.org.findUnique({
      where: { id },
      select: {
        id: true,
        name: true,
        plan: true,
        createdAt: true,
        limitRaises: { where: { until: { gt: new Date() } }, select: { limitClass: true, perMinute: true, until: true }, orderBy: { limitClass: "asc" } },
      },
    });
  }

  /** Returns false when no such org exists. */
  async setPlan(id: string, plan: Plan): Promise<boolean> {
    const { count } = await this.db.org.updateMany({ where: { id }, data: { plan } });
    if (count > 0) await this.announce("tenancy", id);
    return count > 0;
  }

  /**
   * Sets the org's ceiling for `limitClass` to `perMinute` until `until`, replacing an earlier raise of the class;
   * the plan's ceiling applies again after it (CONTRACT §7). Returns false when no such org exists.
   */
  async raiseLimit(orgId: string, limitClass: LimitClass, perMinute: number, until: Date): Promise<boolean> {
    if ((await this.db.org.count({ where: { id: orgId } })) === 0) return false;
    await this.db.limitRaise.upsert({
      where: { orgId_limitClass: { orgId, limitClass } },
      create: { orgId, limitClass, perMinute, until },
      update: { perMinute, until, createdAt: new Date() },
    });
    await this.announce("tenancy", orgId);
    return true;
  }

  listOrgs() {
    return this.db.org.findMany({ orderBy: { createdAt: "asc" } });
  }

  createSandbox(orgId: string, name: string, type: SandboxType) {
    return this.db.sandbox.create({ data: { id: randomUUID(), orgId, name, type } });
  }

  findSandbox(orgId: string, name: string) {
    return this.db.sandbox.findUnique({ where: { orgId_name: { orgId, name } } });
  }

  listSandboxes(orgId: string) {
    return this.db.sandbox.findMany({ where: { orgId }, orderBy: { createdAt: "asc" } });
  }

  /** The token is returned once and never stored: only its hash is. */
  async createCredential(orgId: string, name: string): Promise<{ clientId: string; token: string; orgId: string; name: string }> {
    const token = newToken();
    const credential = await this.db.credential.create({
      data: { clientId: newClientId(), orgId, name, tokenHash: hashToken(token) },
    });
    return { clientId: credential.clientId, token, orgId, name };
  }

  listCredentials(orgId: string) {
    return this.db.credential.findMany({
      where: { orgId },
      orderBy: { createdAt: "asc" },
      select: { clientId: true, orgId: true, name: true, createdAt: true, revokedAt: true },
    });
  }

  /** Returns false when no such credential exists. Revoking twice keeps the first revocation time. */
  async revokeCredential(clientId: string): Promise<boolean> {
    const credential = await this.db.credential.findUnique({ where: { clientId }, select: { orgId: true } });
    if (!credential) return false;
    await this.db.credential.updateMany({ where: { clientId, revokedAt: null }, data: { revokedAt: new Date() } });
    await this.announce("tenancy", credential.orgId);
    return true;
  }
}

/** For setting up orgs before any API process serves them (tests, seeds): nothing can have been cached yet. */
export const beforeAnyApiProcess: AnnounceOrgChange = async () => undefined;
