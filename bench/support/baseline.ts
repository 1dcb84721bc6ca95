import { runtimeCommand } from "../../test/infra/dockerfile.js";
import { freePort, REPO_ROOT, startSluiceProcess, type SluiceProcess } from "../../test/process/sluice-process.js";

export interface Baseline {
  readonly url: string;
  readonly process: SluiceProcess;
  stop(): Promise<void>;
}

/**
 * Starts bench/baseline-server.ts (plain Express + `pg`) in its own process against `databaseUrl`, with the node
 * flags and NODE_ENV the image gives Sluice, so the two differ only in what serves the request.
 */
export async function startBaseline(databaseUrl: string): Promise<Baseline> {
  const port = await freePort();
  const { nodeArgs } = runtimeCommand(`${REPO_ROOT}/Dockerfile`);
  const child = startSluiceProcess(
    "bench/baseline-server.ts",
    { NODE_ENV: "production", BASELINE_DATABASE_URL: databaseUrl, BASELINE_PORT: String(port) },
    REPO_ROOT,
    nodeArgs,
  );
  await child.waitForLine((line) => line === "baseline ready", 30_000);
  return {
    url: `http://127.0.0.1:${port}`,
    process: child,
    async stop() {
      child.kill("SIGTERM");
      await child.exited;
    },
  };
}
