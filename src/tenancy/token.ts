import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** Tokens are random and high-entropy, so a plain SHA-256 is a sufficient at-rest hash. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

export function tokenMatches(token: string, storedHash: string): boolean {
  const actual = Buffer.from(hashToken(token), "hex");
  const expected = Buffer.from(storedHash, "hex");
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

export function newToken(): string {
  return `sluice_${randomBytes(32).toString("base64url")}`;
}

export function newClientId(): string {
  return `sluice-${randomBytes(12).toString("hex")}`;
}
