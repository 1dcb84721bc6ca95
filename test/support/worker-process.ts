import { startSluiceProcess, type SluiceProcess } from "../process/sluice-process.js";
import { testRedisEnv, type TestApp } from "./test-app.js";

export interface WorkerProcess {
  readonly process: SluiceProcess;
  /** SIGTERM, then wait for the exit. */
  stop(): Promise<void>;
}

/**
 * Runs a real `SERVICES=worker` process against the test app's database and Redis prefix, with the app's
 * environment overrides (its egress allowance, say) plus `env`. Separate processes keep the sink's timestamps
 * honest: a worker sharing the test's event loop would delay its own measurements.
 */
export async function startWorkerProcess(app: TestApp, env: Record<string, string> = {}): Promise<WorkerProcess> {
  const child = startSluiceProcess("src/main.ts", {
    NODE_ENV: "test",
    SERVICES: "worker",
    DATABASE_URL: app.database.url,
    ...testRedisEnv(),
    REDIS_PREFIX: app.redisPrefix,
    LOG_LEVEL: "info",
    ...app.env,
    ...env,
  });
  await child.waitForLine((line) => line.includes("runtime worker started"));
  return {
    process: child,
    async stop() {
      child.kill("SIGTERM");
      await child.exited;
    },
  };
}
