import { freePort, startSluiceProcess, type SluiceProcess } from "../process/sluice-process.js";
import { testRedisEnv, type TestApp } from "./test-app.js";

/**
 * A real `SERVICES=api` process serving the test app's database and Redis prefix with the app's environment
 * overrides, for tests that kill an API: the in-process app stays up to read what the killed one accepted.
 */
export async function startApiProcess(app: TestApp): Promise<{ url: string; process: SluiceProcess }> {
  const port = await freePort();
  const child = startSluiceProcess("src/main.ts", {
    NODE_ENV: "test",
    SERVICES: "api",
    HOST: "127.0.0.1",
    PORT: String(port),
    DATABASE_URL: app.database.url,
    ...testRedisEnv(),
    REDIS_PREFIX: app.redisPrefix,
    LOG_LEVEL: "info",
    ...app.env,
  });
  await child.waitForLine((line) => line.includes("sluice started"));
  return { url: `http://127.0.0.1:${port}`, process: child };
}
