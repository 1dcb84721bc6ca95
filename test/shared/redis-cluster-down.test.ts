import { setTimeout as sleep } from "node:timers/promises";
import { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { throttledLane } from "../../src/runtime/keys.js";
import { loadEnv } from "../../src/config/env.js";
import { createRedis, redisTarget, type RedisClient } from "../../src/shared/redis.js";
import { startRedisCluster, type RedisCluster } from "../support/redis-cluster.js";
import { callsTo, deployConfig, submitBatch, useRuntime, waitForCallStates } from "../support/runtime.js";
import { masterOf } from "../support/test-app.js";
import { startSink } from "../support/sink.js";

// A cluster whose masters have no replicas goes down (CLUSTERDOWN on every node) while one master is unreachable
// past cluster-node-timeout (2 s here). The worker must ride it out and finish the backlog once the master is back:
// with ioredis' auto-pipelining on a cluster, the retried pipeline crashed the worker process (see createRedis).
const N = 200;
let cluster: RedisCluster;
let client: RedisClient;
beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3 });
  client = createRedis(redisTarget(loadEnv({ REDIS_CLUSTER_NODES: cluster.nodes.join(",") })), {});
});
afterAll(async () => {
  client?.disconnect();
  await cluster?.stop();
});
// Calls in flight when the cluster went down cannot complete their jobs; they are taken again once their lock
// lapses (RUNTIME_LOCK_MS, shortened here as in the failover test).
const rt = useRuntime({ startSink, env: () => ({ REDIS_CLUSTER_NODES: cluster.nodes.join(","), RUNTIME_LOCK_MS: "5000" }) });
const { ctx } = rt;

describe("a cluster down for 5 s during a backlog", () => {
  it("no cluster client auto-pipelines (ioredis retries such a pipeline into an uncaught TypeError)", () => {
    expect(client).toBeInstanceOf(Cluster);
    expect((client as Cluster).options.enableAutoPipelining).toBe(false);
    const asked = createRedis(redisTarget(loadEnv({ REDIS_CLUSTER_NODES: cluster.nodes.join(",") })), { enableAutoPipelining: true });
    expect((asked as Cluster).options.enableAutoPipelining).toBe(false);
    asked.disconnect();
  });

  it("the worker process keeps running and sends every call once the cluster is back", { timeout: 90_000 }, async () => {
    await deployConfig(ctx, { urlPattern: `${rt.sink.url}/down/*`, methods: ["POST"], maxThroughput: N });
    const version = await ctx.app.db.runtimeVersion.findFirstOrThrow({ where: { orgId: ctx.tenant.orgId } });
    const accepted = await submitBatch(ctx, callsTo(`${rt.sink.url}/down/`, 3 * N));
    // Another master than the queue's: the queue's own master stays up and answers every command CLUSTERDOWN.
    const queueMaster = await masterOf(client, ctx.app.keys.queueKey(throttledLane(version.id), "wait"));
    const victim = cluster.nodes.slice(0, 3).find((node) => node !== queueMaster)!;
    const pid = cluster.pids[cluster.nodes.indexOf(victim)]!;
    await sleep(300);
    process.kill(pid, "SIGSTOP");
    await sleep(5000);
    process.kill(pid, "SIGCONT");

    const delivered = () => new Set(rt.sink.arrivalsFor("/down/").map((arrival) => arrival.path)).size;
    for (const deadline = Date.now() + 40_000; delivered() < 3 * N && Date.now() < deadline; ) await sleep(250);
    const worker = rt.workers[0]!.process;
    expect(worker.stdout.filter((line) => line.includes('"level":60'))).toEqual([]);
    expect(delivered()).toBe(3 * N);

    // The API answers again too, and every record says so.
    const read = () => ctx.app.request().get(`/runtime/calls/${accepted[0]!.callId}`).set(ctx.tenant.headers());
    const t0 = Date.now();
    for (const deadline = Date.now() + 15_000; (await read()).status !== 200 && Date.now() < deadline; ) await sleep(250);
    console.info(`API answering again ${Date.now() - t0} ms after the last call arrived`);
    const records = await waitForCallStates(ctx, accepted.map((call) => call.callId), ["succeeded"], 10_000);
    expect(records.every((record) => record.state === "succeeded")).toBe(true);
  });
});
