import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freeClusterPorts, redisCli } from "./redis-cluster.js";

export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>`: the app's REDIS_URL. */
  readonly url: string;
  /** The running redis-server's process id. */
  readonly pid: number;
  /** SIGKILLs the server and resolves once it is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port and directory (its AOF, if on, is replayed); resolves once it answers. */
  restart(): Promise<void>;
  /** Runs a redis-cli command against it. */
  cli(...command: string[]): Promise<string>;
  stop(): Promise<void>;
}

/**
 * A Redis of the test's own, from the machine's `redis-server`, on a free loopback port, with its data in a
 * temporary directory (for AOF tests) and `args` added (e.g. `--appendonly yes --appendfsync always`).
 */
export async function startRedisServer(args: string[] = []): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), "sluice-redis-"));
  const [port] = await freeClusterPorts(1);
  let child: ChildProcess | undefined;
  const cli = (...command: string[]) => redisCli(undefined, ["-p", String(port), ...command]);
  const start = async () => {
    child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--dir", dir, ...args], { stdio: "ignore" });
    const deadline = Date.now() + 20_000;
    while ((await cli("ping")) !== "PONG") {
      if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not start`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const kill = async () => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    child.kill("SIGKILL");
    await exited;
  };
  await start();
  return {
    port: port!,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child!.pid!;
    },
    kill,
    restart: start,
    cli,
    async stop() {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
