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

  it("rejects a port outside 0..65535", () => {
    expect(problemsOf({ PORT: "70000" })).toEqual([expect.stringMatching(/^PORT:/)]);
  });
});
