import { pino, type Logger } from "pino";

export type { Logger };

/** JSON logs on stdout. Credentials are redacted wherever they might appear. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: "sluice" },
    redact: {
      paths: ["req.headers.authorization", "req.headers['x-api-key']", "token", "*.token", "tokenHash", "*.tokenHash"],
      censor: "[redacted]",
    },
  });
}
