import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { envSchema } from "../../src/config/env.js";
import { parseDockerfile } from "./dockerfile.js";

interface ComposeService {
  image?: string;
  build?: { context: string; target?: string };
  command?: string | string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string | string[] };
  volumes?: (string | { source: string; target: string })[];
  ports?: unknown[];
  stop_grace_period?: string;
  container_name?: string;
}
interface ComposeConfig {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

const root = resolve(import.meta.dirname, "../..");
const words = (value: string | string[] | undefined) => (Array.isArray(value) ? value.join(" ") : (value ?? ""));
const volumeSource = (volume: string | { source: string }) => (typeof volume === "string" ? volume.split(":")[0] : volume.source);

/** A Compose duration (`15s`, `1m30s`, `500ms`) in milliseconds. */
function durationMs(value: string): number {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001 };
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us)/g)];
  if (parts.map(([part]) => part).join("") !== value) throw new Error(`not a Compose duration: ${value}`);
  return parts.reduce((total, [, amount, unit]) => total + Number(amount) * units[unit!]!, 0);
}

/** SHUTDOWN_TIMEOUT_MS as the service's process sees it (the env schema's default when compose sets none). */
const shutdownTimeoutMs = (service: ComposeService) =>
  envSchema.shape.SHUTDOWN_TIMEOUT_MS.parse(service.environment?.["SHUTDOWN_TIMEOUT_MS"]);

let config: ComposeConfig;
beforeAll(() => {
  // `config` validates and normalises the file without a Docker engine; it throws on a non-zero exit.
  const output = execFileSync("docker-compose", ["-f", "docker-compose.yml", "config"], {
    cwd: root,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  config = parse(output) as ComposeConfig;
});

describe("docker-compose.yml", () => {
  it("defines postgres, redis, migrate, api and worker", () => {
    expect(Object.keys(config.services).sort()).toEqual(["api", "migrate", "postgres", "redis", "worker"]);
    expect(config.services["postgres"]!.image).toMatch(/^postgres:16\b/);
    expect(config.services["redis"]!.image).toMatch(/^redis:7\b/);
  });

  it("runs Redis with AOF persistence on a named volume", () => {
    const redis = config.services["redis"]!;
    expect(words(redis.command)).toMatch(/--appendonly yes\b/);
    expect(words(redis.command)).toMatch(/--appendfsync always\b/);
    expect(words(redis.command)).toMatch(/--maxmemory-policy noeviction\b/);
    expect(redis.volumes?.map(volumeSource)).toContain("redis-data");
    expect(Object.keys(config.volumes ?? {})).toEqual(expect.arrayContaining(["redis-data", "postgres-data"]));
  });

  it("health-checks postgres, redis and the api", () => {
    expect(words(config.services["postgres"]!.healthcheck?.test)).toContain("pg_isready");
    expect(words(config.services["redis"]!.healthcheck?.test)).toContain("redis-cli ping");
    expect(words(config.services["api"]!.healthcheck?.test)).toContain("/healthz");
  });

  it("migrates once postgres is healthy, then starts the api and the worker once migrations completed", () => {
    const { migrate } = config.services;
    expect(words(migrate!.command)).toBe("npx prisma migrate deploy");
    expect(migrate!.depends_on?.["postgres"]?.condition).toBe("service_healthy");
    for (const name of ["api", "worker"]) {
      const service = config.services[name]!;
      expect(service.depends_on?.["migrate"]?.condition, name).toBe("service_completed_successfully");
      expect(service.depends_on?.["redis"]?.condition, name).toBe("service_healthy");
    }
  });

  it("runs the API and the worker as separate services, both wired to the compose postgres and redis", () => {
    const { api, worker, migrate } = config.services;
    expect(api!.environment?.["SERVICES"]).toBe("api");
    expect(worker!.environment?.["SERVICES"]).toBe("worker");
    for (const service of [api!, worker!]) {
      expect(new URL(service.environment?.["DATABASE_URL"] ?? "").hostname).toBe("postgres");
      expect(new URL(service.environment?.["REDIS_URL"] ?? "").hostname).toBe("redis");
    }
    expect(worker!.environment?.["DATABASE_URL"]).toBe(api!.environment?.["DATABASE_URL"]);
    expect(migrate!.environment?.["DATABASE_URL"]).toBe(api!.environment?.["DATABASE_URL"]);
  });

  it("runs api and worker from one image, so the worker is the same build", () => {
    const { api, worker } = config.services;
    expect(worker!.image).toBe(api!.image);
    expect(worker!.build).toEqual(api!.build);
  });

  it("lets `--scale worker=N` work: the worker publishes no port and has no fixed container name", () => {
    const worker = config.services["worker"]!;
    expect(worker.ports ?? []).toEqual([]);
    expect(worker.container_name).toBeUndefined();
  });

  it("gives api and worker longer than SHUTDOWN_TIMEOUT_MS to stop before Docker kills them", () => {
    for (const name of ["api", "worker"]) {
      const service = config.services[name]!;
      expect(service.stop_grace_period, name).toBeDefined();
      expect(durationMs(service.stop_grace_period!), name).toBeGreaterThan(shutdownTimeoutMs(service));
    }
  });

  it("builds migrate, api and worker from stages that exist in the Dockerfile", () => {
    const stageNames = parseDockerfile(resolve(root, "Dockerfile")).map((stage) => stage.name);
    expect(config.services["migrate"]!.build?.target).toBe("migrate");
    expect(config.services["api"]!.build?.target).toBe("runtime");
    expect(config.services["worker"]!.build?.target).toBe("runtime");
    expect(stageNames).toEqual(expect.arrayContaining(["migrate", "runtime"]));
  });
});
