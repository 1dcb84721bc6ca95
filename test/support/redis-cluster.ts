import { execFile, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface RedisCluster {
  /** Every node as host:port, masters first: REDIS_CLUSTER_NODES. */
  readonly nodes: string[];
  /** Each node's redis-server process id, in the order of `nodes`. */
  readonly pids: number[];
  /** SIGKILLs one node (host:port) and resolves once it is gone. */
  kill(node: string): Promise<void>;
  stop(): Promise<void>;
}

/** A certificate (PEM) its key, valid for 127.0.0.1, and the CA to trust it by (the certificate itself). */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

/**
 * A Redis Cluster on loopback ports from the machine's `redis-server`: `masters` masters with `replicas` replicas
 * each, no persistence, each node a child process stopped by `stop()`. Nodes announce 127.0.0.1 (the ioredis client
 * hangs on the address a node guesses for itself otherwise). With `tls`, clients, the cluster bus and replication
 * all speak TLS only.
 */
export async function startRedisCluster({ masters = 3, replicas = 0, tls }: { masters?: number; replicas?: number; tls?: TlsFiles } = {}): Promise<RedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), "sluice-cluster-"));
  const ports = await freeClusterPorts(masters * (1 + replicas));
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(
      children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill("SIGKILL");
        await once(child, "exit");
      }),
    );
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const cli = (port: number, ...command: string[]) => redisCli(tls, ["-p", String(port), ...command]);
    for (const port of ports) {
      const clusterArgs = ["--cluster-enabled", "yes", "--cluster-config-file", `nodes-${port}.conf`, "--cluster-announce-ip", "127.0.0.1",
        "--cluster-node-timeout", "2000", ...(tls ? ["--tls-cluster", "yes", "--tls-replication", "yes"] : [])];
      children.push(spawn("redis-server", [...listenArgs(port, tls), ...clusterArgs, "--save", "", "--appendonly", "no", "--dir", dir], { stdio: "ignore" }));
    }
    await Promise.all(ports.map((port) => waitFor(() => cli(port, "ping").then((out) => out === "PONG"), `node ${port} up`)));
    const nodes = ports.map((port) => `127.0.0.1:${port}`);
    const created = await redisCli(tls, ["--cluster", "create", ...nodes, "--cluster-replicas", String(replicas), "--cluster-yes"]);
    if (!created.includes("All 16384 slots covered")) throw new Error(`redis cluster: create failed: ${created}`);
    await Promise.all(ports.map((port) => waitFor(async () => (await cli(port, "cluster", "info")).includes("cluster_state:ok"), `node ${port} in an ok cluster`)));
    const linkedReplicas = async () => (await Promise.all(ports.map((port) => cli(port, "info", "replication")))).filter((info) => /master_link_status:up/.test(info)).length;
    await waitFor(async () => (await linkedReplicas()) === masters * replicas, "every replica in sync");
    const kill = async (node: string) => {
      const child = children[nodes.indexOf(node)];
      if (!child) throw new Error(`redis cluster: no node ${node}`);
      child.kill("SIGKILL");
      if (child.exitCode === null && child.signalCode === null) await once(child, "exit");
    };
    return { nodes, pids: children.map((child) => child.pid!), kill, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A single Redis on a free loopback port, speaking TLS only; stopped by `stop()`. */
export async function startTlsRedis(tls: TlsFiles): Promise<{ port: number; stop(): Promise<void> }> {
  const [port] = await freeClusterPorts(1);
  const child = spawn("redis-server", [...listenArgs(port!, tls), "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  await waitFor(async () => (await redisCli(tls, ["-p", String(port), "ping"])) === "PONG", `TLS redis on ${port} up`);
  return {
    port: port!,
    async stop() {
      child.kill("SIGKILL");
      if (child.exitCode === null && child.signalCode === null) await once(child, "exit");
    },
  };
}

/** A self-signed certificate for 127.0.0.1 in `dir`. */
export async function selfSignedCertificate(dir: string): Promise<TlsFiles> {
  const files = { certFile: join(dir, "cert.pem"), keyFile: join(dir, "key.pem") };
  await run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", files.keyFile, "-out", files.certFile]);
  return files;
}

const listenArgs = (port: number, tls: TlsFiles | undefined): string[] =>
  tls
    ? ["--port", "0", "--tls-port", String(port), "--tls-cert-file", tls.certFile, "--tls-key-file", tls.keyFile,
        "--tls-ca-cert-file", tls.certFile, "--tls-auth-clients", "no", "--bind", "127.0.0.1"]
    : ["--port", String(port), "--bind", "127.0.0.1"];

export async function redisCli(tls: TlsFiles | undefined, args: string[]): Promise<string> {
  const tlsArgs = tls ? ["--tls", "--cacert", tls.certFile] : [];
  const { stdout } = await run("redis-cli", [...tlsArgs, ...args]).catch(() => ({ stdout: "" }));
  return stdout.trim();
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`redis cluster: ${what} not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** `count` ports that are free, as are their cluster bus ports (port + 10000). */
export async function freeClusterPorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if (!ports.includes(port) && !ports.includes(port + 10_000) && (await isFree(port)) && (await isFree(port + 10_000))) ports.push(port);
  }
  return ports;
}

async function isFree(port: number): Promise<boolean> {
  const server = createServer();
  server.listen(port, "127.0.0.1");
  try {
    await once(server, "listening");
    return true;
  } catch {
    return false;
  } finally {
    server.close();
  }
}
