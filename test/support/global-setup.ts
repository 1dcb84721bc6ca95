import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import type { TestProject } from "vitest/node";
import { databaseUrl, withAdmin } from "./postgres.js";

declare module "vitest" {
  export interface ProvidedContext {
    templateDatabase: string;
    /** REDIS_CLUSTER_NODES of the Redis Cluster the cluster projects run against (redis-cluster-setup.ts). */
    redisClusterNodes?: string;
  }
}

/**
 * Migrates one template database per test run with the real `prisma migrate deploy`;
 * each test file then clones it (test/support/database.ts), which takes milliseconds.
 */
export default async function setup(project: TestProject) {
  const template = `sluice_tpl_${randomBytes(4).toString("hex")}`;
  await withAdmin((admin) => admin.query(`CREATE DATABASE ${template}`));
  execFileSync("npx", ["prisma", "migrate", "deploy"], {
    env: { ...process.env, DATABASE_URL: databaseUrl(template) },
    stdio: "pipe",
  });
  project.provide("templateDatabase", template);
  return async () => {
    await withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`));
  };
}
