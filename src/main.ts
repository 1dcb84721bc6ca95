import { createSluice } from "./composition-root.js";
import { EnvError, loadEnv, type Env } from "./config/env.js";
import { createLogger } from "./shared/logger.js";

function envOrExit(): Env {
  try {
    return loadEnv();
  } catch (error) {
    if (!(error instanceof EnvError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}

const env = envOrExit();
const logger = createLogger(env.LOG_LEVEL);
const sluice = createSluice(env, logger);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "shutting down");
  try {
    await sluice.stop();
    process.exit(0);
  } catch (error) {
    logger.error({ err: error }, "shutdown failed");
    process.exit(1);
  }
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));

try {
  await sluice.start();
} catch (error) {
  logger.fatal({ err: error }, "failed to start");
  await sluice.stop().catch(() => undefined);
  process.exit(1);
}
