import { createSluice } from "./composition-root.js";
import { EnvError, loadEnv, type Env } from "./config/env.js";
import { unreachableDependency } from "./config/preflight.js";
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
const missing = await unreachableDependency(env);
if (missing) {
  process.stderr.write(`${missing}\n`);
  process.exit(1);
}
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
// A bug that escaped every handler: say so in the logs (through the serializer that keeps secrets out), then exit
// non-zero so the supervisor restarts the process; its calls return to their queues when their locks lapse.
process.on("unhandledRejection", (reason) => {
  logger.fatal({ err: reason }, "unhandled promise rejection");
  process.exit(1);
});
process.on("uncaughtException", (error) => {
  logger.fatal({ err: error }, "uncaught exception");
  process.exit(1);
});

try {
  await sluice.start();
} catch (error) {
  logger.fatal({ err: error }, "failed to start");
  await sluice.stop().catch(() => undefined);
  process.exit(1);
}
