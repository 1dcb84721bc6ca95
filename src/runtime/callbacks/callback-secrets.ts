import { randomBytes } from "node:crypto";
import type { Db } from "../../db/prisma.js";

/** During this long after a rotation, the previous secret signs too (CONTRACT §10). */
export const ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000;
/** How long a worker signs with secrets it read: a rotation reaches every worker within this. */
const CACHE_MS = 5000;

/** A Standard Webhooks secret: `whsec_` and 24 random bytes in base64, as Svix makes them. */
const newSecret = (): string => `whsec_${randomBytes(24).toString("base64")}`;

export class OrgNotFoundError extends Error {}

/**
 * Each org's callback secret (CONTRACT §10), kept in Postgres with the org and made on first use. Workers read it
 * through a short cache; `sluice org callback-secret` shows and rotates it.
 */
export class CallbackSecrets {
  private readonly cache = new Map<string, { secrets: string[]; readAt: number }>();

  constructor(private readonly db: Db) {}

  /** The org's secret, made now if it has none. */
  async show(orgId: string): Promise<{ secret: string; previous?: string; rotatedAt?: Date }> {
    const org = await this.read(orgId);
    if (org.callbackSecret) {
      const previousValid = org.previousCallbackSecret && org.callbackSecretRotatedAt && Date.now() - org.callbackSecretRotatedAt.getTime() < ROTATION_OVERLAP_MS;
      return {
        secret: org.callbackSecret,
        ...(previousValid ? { previous: org.previousCallbackSecret!, rotatedAt: org.callbackSecretRotatedAt! } : {}),
      };
    }
    // Two first uses at once make one secret: the second update matches no row and reads the first's.
    await this.db.org.updateMany({ where: { id: orgId, callbackSecret: null }, data: { callbackSecret: newSecret() } });
    return this.show(orgId);
  }

  /** Makes a new secret; the current one keeps signing for 24 h. */
  async rotate(orgId: string): Promise<{ secret: string; previous?: string; rotatedAt?: Date }> {
    const { secret } = await this.show(orgId);
    await this.db.org.update({
      where: { id: orgId },
      data: { callbackSecret: newSecret(), previousCallbackSecret: secret, callbackSecretRotatedAt: new Date() },
    });
    this.cache.delete(orgId);
    return this.show(orgId);
  }

  /** The secrets that sign the org's callbacks now: the current one, and the previous one within 24 h of a rotation. */
  async forSigning(orgId: string): Promise<string[]> {
    const cached = this.cache.get(orgId);
    if (cached && Date.now() - cached.readAt < CACHE_MS) return cached.secrets;
    const { secret, previous } = await this.show(orgId);
    const secrets = previous ? [secret, previous] : [secret];
    this.cache.set(orgId, { secrets, readAt: Date.now() });
    return secrets;
  }

  private async read(orgId: string) {
    const org = await this.db.org.findUnique({
      where: { id: orgId },
      select: { callbackSecret: true, previousCallbackSecret: true, callbackSecretRotatedAt: true },
    });
    if (!org) throw new OrgNotFoundError(`org ${orgId} does not exist`);
    return org;
  }
}
