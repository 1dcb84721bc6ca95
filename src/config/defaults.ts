// Defaults shared by the env schema and tooling (prisma.config.ts, the OpenAPI examples) so they cannot disagree.
export const DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/sluice";
export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";
/** The per-org bounds on queued calls (CONTRACT §6, §11), also quoted in the OpenAPI examples. */
export const DEFAULT_MAX_QUEUED_PER_ORG = 1_000_000;
export const DEFAULT_MAX_QUEUED_BYTES_PER_ORG = 512 * 1024 * 1024;
/** How much of a response's body a call's record keeps (RUNTIME_BODY_PREVIEW_BYTES). */
export const DEFAULT_BODY_PREVIEW_BYTES = 1024;
