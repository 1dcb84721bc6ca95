import { describe, expect, it } from "vitest";
import { DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL } from "../../src/config/defaults.js";
import { EnvError, loadEnv } from "../../src/config/env.js";

function problemsOf(source: Record<string, string>): string[] {
  try {
    loadEnv(source);
  } catch (error) {
    expect(error).toBeInstanceOf(EnvError);
    return (error as EnvError).message.split("\n").slice(1).map((line) => line.trim());
  }
  throw new Error("expected loadEnv to reject the environment");
}

describe("loadEnv", () => {
  it("runs on an empty environment with local defaults", () => {
    expect(loadEnv({})).toMatchObject({
      NODE_ENV: "development",
      SERVICES: ["api", "worker"],
      PORT: 3000,
      HOST: "0.0.0.0",
      DATABASE_URL: DEFAULT_DATABASE_URL,
      REDIS_URL: DEFAULT_REDIS_URL,
      REDIS_PREFIX: "sluice",
      LOG_LEVEL: "info",
      SHUTDOWN_TIMEOUT_MS: 10_000,
    });
  });

  it("coerces numeric variables", () => {
    expect(loadEnv({ PORT: "0", DATABASE_POOL_SIZE: "3" })).toMatchObject({ PORT: 0, DATABASE_POOL_SIZE: 3 });
  });

  it.each([
    ["api", ["api"]],
    ["worker", ["worker"]],
    ["api,worker", ["api", "worker"]],
    [" worker , api ", ["worker", "api"]],
  ])("parses SERVICES=%j", (services, expected) => {
    expect(loadEnv({ SERVICES: services }).SERVICES).toEqual(expected);
  });

  it.each(["foo", "api,foo", "", ","])("rejects SERVICES=%j, naming the variable", (services) => {
    const problems = problemsOf({ SERVICES: services });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^SERVICES\b/);
  });

  it("lists every problem at once", () => {
    const problems = problemsOf({ PORT: "abc", SERVICES: "foo", DATABASE_URL: "not a url", LOG_LEVEL: "loud" });
    expect(problems.map((line) => line.split(/[.:]/)[0]).sort()).toEqual(["DATABASE_URL", "LOG_LEVEL", "PORT", "SERVICES"]);
  });

  it("accepts redis:// and rediss:// in REDIS_URL, and nothing else", () => {
    expect(loadEnv({ REDIS_URL: "rediss://user:pw@cache.example:6380/2" }).REDIS_URL).toBe("rediss://user:pw@cache.example:6380/2");
    expect(problemsOf({ REDIS_URL: "http://cache.example:6379" })).toEqual([expect.stringMatching(/^REDIS_URL:/)]);
  });

  it("parses REDIS_CLUSTER_NODES into seed URLs (plain host:port too), and names the entries it cannot parse", () => {
    expect(loadEnv({ REDIS_CLUSTER_NODES: "10.0.0.1:7000, rediss://u:p@[fd00::1]:7001" }).REDIS_CLUSTER_NODES).toEqual([
      "redis://10.0.0.1:7000",
      "rediss://u:p@[fd00::1]:7001",
    ]);
    expect(loadEnv({ REDIS_CLUSTER_NODES: "" }).REDIS_CLUSTER_NODES).toBeUndefined();
    const problems = problemsOf({ REDIS_CLUSTER_NODES: "10.0.0.1:7000,10.0.0.2,http://x:1" });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^REDIS_CLUSTER_NODES: invalid entries "10.0.0.2", "http:\/\/x:1"/);
  });

  it("rejects a port outside 0..65535", () => {
    expect(problemsOf({ PORT: "70000" })).toEqual([expect.stringMatching(/^PORT:/)]);
  });

  it("parses EGRESS_ALLOW and EGRESS_DENY into rules, and names the entries it cannot parse", () => {
    const env = loadEnv({ EGRESS_ALLOW: "127.0.0.1:8000-8999, 10.1.2.0/24", EGRESS_DENY: "[fd00::/8]:443" });
    expect(env.EGRESS_ALLOW.map((rule) => rule.text)).toEqual(["127.0.0.1:8000-8999", "10.1.2.0/24"]);
    expect(env.EGRESS_DENY.map((rule) => [rule.text, rule.ports])).toEqual([["[fd00::/8]:443", [443, 443]]]);
    expect(loadEnv({}).EGRESS_ALLOW).toEqual([]);
    const problems = problemsOf({ EGRESS_ALLOW: "10.0.0.0/8,10.0.0.0/99,host.internal" });
    expect(problems).toEqual([expect.stringMatching(/^EGRESS_ALLOW: invalid entries "10.0.0.0\/99", "host.internal"/)]);
  });

  it("RUNTIME_MAX_QUEUED_BYTES_PER_ORG defaults to 512 MiB and is at least 1024", () => {
    expect(loadEnv({}).RUNTIME_MAX_QUEUED_BYTES_PER_ORG).toBe(512 * 1024 * 1024);
    expect(problemsOf({ RUNTIME_MAX_QUEUED_BYTES_PER_ORG: "100" })).toEqual([expect.stringMatching(/^RUNTIME_MAX_QUEUED_BYTES_PER_ORG:/)]);
  });

  it("RUNTIME_BODY_PREVIEW_BYTES defaults to 1024 and takes 0..65536", () => {
    expect(loadEnv({}).RUNTIME_BODY_PREVIEW_BYTES).toBe(1024);
    expect(loadEnv({ RUNTIME_BODY_PREVIEW_BYTES: "0" }).RUNTIME_BODY_PREVIEW_BYTES).toBe(0);
    for (const bad of ["-1", "65537", "1.5"]) {
      expect(problemsOf({ RUNTIME_BODY_PREVIEW_BYTES: bad })).toEqual([expect.stringMatching(/^RUNTIME_BODY_PREVIEW_BYTES:/)]);
    }
  });

  it("takes an empty optional setting (as compose passes an unset one) as unset, and checks a set one", () => {
    expect(loadEnv({ METRICS_TOKEN: "", ADMIN_TOKEN: "", OUTBOUND_PROXY_URL: "" })).toMatchObject({
      METRICS_TOKEN: undefined,
      ADMIN_TOKEN: undefined,
      OUTBOUND_PROXY_URL: undefined,
    });
    expect(problemsOf({ OUTBOUND_PROXY_URL: "socks5://proxy:1080", METRICS_TOKEN: "short" }).map((p) => p.split(":")[0]).sort()).toEqual([
      "METRICS_TOKEN",
      "OUTBOUND_PROXY_URL",
    ]);
  });
});
