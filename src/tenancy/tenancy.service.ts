import { randomUUID } from "node:crypto";
import type { Db } from "../db/prisma.js";
import type { Plan, SandboxType } from "../generated/prisma/client.js";
import { hashToken, newClientId, newToken } from "./token.js";

export const PLANS = ["S", "M", "L", "XL"] as const satisfies readonly Plan[];
export const SANDBOX_TYPES = ["production", "development"] as const satisfies readonly SandboxType[];

/** Operator-side management of orgs, sandboxes and credentials (used by the CLI and the dev seed). */
export class TenancyService {
  constructor(private readonly db: Db) {}

  createOrg(id: string, name: string = id, plan: Plan = "S") {
    return this.db.org.create({ data: { id, name, plan } });
  }

  findOrg(id: string) {
    return this.db.org.findUnique({ where: { id } });
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
    const { count } = await this.db.credential.updateMany({
      where: { clientId, revokedAt: null },
      data: { revokedAt: new Date() },
    });
    if (count > 0) return true;
    return (await this.db.credential.count({ where: { clientId } })) > 0;
  }
}
