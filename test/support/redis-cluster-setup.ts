import type { TestProject } from "vitest/node";
import { startRedisCluster } from "./redis-cluster.js";

/** Global setup of the cluster projects: one 3-master Redis Cluster for the run (see testRedisEnv). */
export default async function setup(project: TestProject) {
  const cluster = await startRedisCluster({ masters: 3 });
  project.provide("redisClusterNodes", cluster.nodes.join(","));
  return () => cluster.stop();
}
