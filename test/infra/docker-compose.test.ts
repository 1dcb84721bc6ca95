import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
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
}
interface ComposeConfig {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

const root = resolve(import.meta.dirname, "../..");
const words = (value: string | string[] | undefined) => (Array.isArray(value) ? value.join(" ") : (value ?? ""));
const volumeSource = (volume: string | { source: string }) => (typeof volume === "string" ? volume.split(":")[0] : volume.source);

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
  it("defines postgres, redis, migrate and api", () => {
    expect(Object.keys(config.services).sort()).toEqual(["api", "migrate", "postgres", "redis"]);
    expect(config.services["postgres"]!.image).toMatch(/^postgres:16\b/);
    expect(config.services["redis"]!.image).toMatch(/^redis:7\b/);
  });

  it("runs Redis with AOF persistence on a named volume", () => {
    const redis = config.services["redis"]!;
    expect(words(redis.command)).toMatch(/--appendonly yes\b/);
    expect(redis.volumes?.map(volumeSource)).toContain("redis-data");
    expect(Object.keys(config.volumes ?? {})).toEqual(expect.arrayContaining(["redis-data", "postgres-data"]));
  });

  it("health-checks postgres, redis and the api", () => {
    expect(words(config.services["postgres"]!.healthcheck?.test)).toContain("pg_isready");
    expect(words(config.services["redis"]!.healthcheck?.test)).toContain("redis-cli ping");
    expect(words(config.services["api"]!.healthcheck?.test)).toContain("/healthz");
  });

  it("migrates once postgres is healthy, then starts the api once migrations completed", () => {
    const { migrate, api } = config.services;
    expect(words(migrate!.command)).toBe("npx prisma migrate deploy");
    expect(migrate!.depends_on?.["postgres"]?.condition).toBe("service_healthy");
    expect(api!.depends_on?.["migrate"]?.condition).toBe("service_completed_successfully");
    expect(api!.depends_on?.["redis"]?.condition).toBe("service_healthy");
  });

  it("runs both halves in the api container, wired to the compose services", () => {
    const environment = config.services["api"]!.environment ?? {};
    expect(environment["SERVICES"]).toBe("api,worker");
    expect(new URL(environment["DATABASE_URL"]!).hostname).toBe("postgres");
    expect(new URL(environment["REDIS_URL"]!).hostname).toBe("redis");
    expect(config.services["migrate"]!.environment?.["DATABASE_URL"]).toBe(environment["DATABASE_URL"]);
  });

  it("builds migrate and api from stages that exist in the Dockerfile", () => {
    const stageNames = parseDockerfile(resolve(root, "Dockerfile")).map((stage) => stage.name);
    expect(config.services["migrate"]!.build?.target).toBe("migrate");
    expect(config.services["api"]!.build?.target).toBe("runtime");
    expect(stageNames).toEqual(expect.arrayContaining(["migrate", "runtime"]));
  });
});
