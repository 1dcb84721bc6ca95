import { pino, stdSerializers, type Logger } from "pino";

export type { Logger };

/**
 * Properties an error may carry that hold what was sent: ioredis attaches the failed command with its arguments
 * (a call's headers and body, in BullMQ's job data or a call record) as `command`; a pipeline's `previousErrors`
 * carry theirs. Outbound headers and bodies never reach the logs (CONTRACT §11).
 */
const SECRET_BEARING = new Set(["command", "args", "data"]);
const MAX_DEPTH = 5;

function withoutSecrets(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== "object" || depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) return value.map((item) => withoutSecrets(item, depth + 1));
  const clean: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    if (!SECRET_BEARING.has(key)) clean[key] = withoutSecrets(field, depth + 1);
  }
  return clean;
}

/** pino's error serializer (message, stack, cause chain and own properties), minus what could hold a secret. */
export const errorSerializer = (error: Error): unknown => withoutSecrets(stdSerializers.err(error), 0);

/** JSON logs on stdout. Credentials are redacted wherever they might appear. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: "sluice" },
    serializers: { err: errorSerializer },
    redact: {
      paths: ["req.headers.authorization", "req.headers['x-api-key']", "token", "*.token", "tokenHash", "*.tokenHash"],
      censor: "[redacted]",
    },
  });
}
