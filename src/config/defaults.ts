// Defaults shared by the env schema and tooling (prisma.config.ts) so they cannot disagree.
export const DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/sluice";
export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";
