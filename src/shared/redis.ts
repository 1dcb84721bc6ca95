import calculateSlot from "cluster-key-slot";
import { Cluster, Redis, type ChainableCommander, type RedisOptions } from "ioredis";
import { unbracketed } from "./url-host.js";

/**
 * A connection to one Redis or to a Redis Cluster (or Valkey cluster, CONTRACT §13). The two share every command
 * Sluice uses; what differs (SCAN, node health) goes through `masters`.
 */
export type RedisClient = Redis | Cluster;

/** Where Redis is: REDIS_URL, or, when REDIS_CLUSTER_NODES is set, a cluster's seed nodes (`redis[s]://` URLs). */
export interface RedisTarget {
  url: string;
  clusterNodes?: string[];
}

/** The Redis the environment names: REDIS_CLUSTER_NODES if set, else REDIS_URL. */
export function redisTarget(env: { REDIS_URL: string; REDIS_CLUSTER_NODES?: string[] | undefined }): RedisTarget {
  return { url: env.REDIS_URL, ...(env.REDIS_CLUSTER_NODES ? { clusterNodes: env.REDIS_CLUSTER_NODES } : {}) };
}

/** The nodes (host:port) serving `key`'s slot as the cluster client last read them: master first, then replicas. */
export const slotOwners = (cluster: Cluster, key: string): string[] => cluster.slots[calculateSlot(key)] ?? [];

/**
 * The one way Sluice connects to Redis; BullMQ's blocking connections are duplicates of the ones made here. On a
 * cluster, credentials and TLS (`rediss://`) come from the seed URLs and apply to every node, and `options` apply
 * per node; auto-pipelining is left off there: when a cluster answers CLUSTERDOWN (MOVED takes the same path), ioredis retries the
 * pipeline it built and then hands its callers fewer results than commands, an uncaught TypeError that ends the
 * process (ioredis#1931; `test/shared/redis-cluster-down.test.ts`). Commands sent one by one are retried per command.
 */
export function createRedis(target: RedisTarget, options: RedisOptions & { enableAutoPipelining?: boolean }): RedisClient {
  if (!target.clusterNodes?.length) return new Redis(target.url, options);
  const seeds = target.clusterNodes.map((node) => new URL(node));
  const first = seeds[0]!;
  const { enableAutoPipelining: _notOnACluster, ...perNode } = options;
  return new Cluster(
    seeds.map((seed) => ({ host: unbracketed(seed.hostname), port: Number(seed.port || 6379) })),
    {
      enableAutoPipelining: false,
      // TLS clusters announce node names their certificates are issued for: connect to those names as given.
      dnsLookup: (address, callback) => callback(null, address),
      redisOptions: {
        ...perNode,
        ...(first.username ? { username: decodeURIComponent(first.username) } : {}),
        ...(first.password ? { password: decodeURIComponent(first.password) } : {}),
        ...(first.protocol === "rediss:" ? { tls: {} } : {}),
      },
    },
  );
}

/** The masters of a cluster (each serving its slots), or the one Redis. */
export function masters(redis: RedisClient): Redis[] {
  return redis instanceof Cluster ? redis.nodes("master") : [redis];
}

/**
 * Parses REDIS_CLUSTER_NODES (`host:port` or `redis[s]://[user:password@]host:port`, comma-separated) into URLs;
 * the problems, if any, name each invalid entry.
 */
export function parseClusterNodes(value: string): { nodes: string[]; invalid: string[] } {
  const nodes: string[] = [];
  const invalid: string[] = [];
  for (const entry of value.split(",").map((part) => part.trim()).filter(Boolean)) {
    const url = URL.parse(/^[a-z]+:\/\//i.test(entry) ? entry : `redis://${entry}`);
    if (url && (url.protocol === "redis:" || url.protocol === "rediss:") && url.hostname && url.port) nodes.push(url.toString());
    else invalid.push(entry);
  }
  return { nodes, invalid };
}

export interface RedisNodeHealth {
  /** host:port as the client reaches the node. */
  node: string;
  role: "master" | "replica";
  ok: boolean;
}

/**
 * Whether each node answers PING within `timeoutMs`: the one Redis, or every master and replica of a cluster's
 * slot table (a node the client lost is down; before the client first reached the cluster there are none).
 */
export async function nodeHealth(redis: RedisClient, timeoutMs = 1000): Promise<RedisNodeHealth[]> {
  if (!(redis instanceof Cluster)) return [{ node: nodeKey(redis), role: "master", ok: await answersWithin(redis, timeoutMs) }];
  const roles = new Map<string, RedisNodeHealth["role"]>();
  for (const [master, ...replicas] of redis.slots.filter(Boolean)) {
    if (master) roles.set(master, "master");
    for (const replica of replicas) if (!roles.has(replica)) roles.set(replica, "replica");
  }
  const connected = new Map(redis.nodes().map((node) => [nodeKey(node), node]));
  return Promise.all(
    [...roles].map(async ([node, role]) => {
      const client = connected.get(node);
      return { node, role, ok: client ? await answersWithin(client, timeoutMs) : false };
    }),
  );
}

const nodeKey = (node: Redis) => `${node.options.host}:${node.options.port}`;

/**
 * Each reachable master's `maxmemory-policy`, read from INFO (managed services often refuse CONFIG GET). A master
 * that does not answer is left out: nodeHealth reports it.
 */
export async function evictionPolicies(redis: RedisClient, timeoutMs = 1000): Promise<{ node: string; policy: string }[]> {
  const policies = await Promise.all(
    masters(redis).map(async (node) => {
      const info = await within(node.info("memory"), timeoutMs, "");
      const policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
      return policy ? [{ node: nodeKey(node), policy }] : [];
    }),
  );
  return policies.flat();
}

/**
 * On a cluster whose masters have replicas: waits until a replica of the master serving each of `keys` has
 * acknowledged every write this client made to that master so far (Redis WAIT), for at most `timeoutMs`. False if
 * one did not, so that a write is refused rather than acknowledged and then lost in a failover. True at once on one
 * Redis, and for masters without replicas.
 */
export async function replicatedToOne(redis: RedisClient, keys: string[], timeoutMs: number): Promise<boolean> {
  if (!(redis instanceof Cluster)) return true;
  const mastersWithReplicas = new Set<string>();
  for (const key of keys) {
    const owners = slotOwners(redis, key);
    if (!owners[0]) return false;
    if (owners.length > 1) mastersWithReplicas.add(owners[0]);
  }
  const connected = new Map(redis.nodes("master").map((node) => [nodeKey(node), node]));
  const acks = await Promise.all([...mastersWithReplicas].map((master) => connected.get(master)?.wait(1, timeoutMs) ?? 0));
  return acks.every((acked) => acked >= 1);
}

/** Redis can serve every slot: each master answers (and there is at least one). */
export const allMastersUp = (nodes: RedisNodeHealth[]): boolean => nodes.some((n) => n.role === "master") && nodes.every((n) => n.role !== "master" || n.ok);

const answersWithin = (node: Redis, timeoutMs: number): Promise<boolean> => within(node.ping().then(() => true), timeoutMs, false);

/** What `reply` resolves to, or `otherwise` if it fails or takes longer than `timeoutMs`. */
async function within<T>(reply: Promise<T>, timeoutMs: number, otherwise: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(otherwise), timeoutMs)));
  try {
    return await Promise.race([reply.catch(() => otherwise), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The replies of a pipeline, in order; the first command that failed throws its error. */
export async function execPipeline(pipeline: ChainableCommander): Promise<unknown[]> {
  return (await pipeline.exec())!.map(([error, reply]) => {
    if (error) throw error;
    return reply;
  });
}

/**
 * Runs `task` unless another process holds the lock `key` (taken for `lockMs`, freed after): periodic work any
 * process may do, one at a time. Resolves without running it when the lock is held.
 */
export async function underLock(redis: RedisClient, key: string, lockMs: number, task: () => Promise<void>): Promise<void> {
  if ((await redis.set(key, String(process.pid), "PX", lockMs, "NX")) !== "OK") return;
  try {
    await task();
  } finally {
    await redis.del(key);
  }
}
