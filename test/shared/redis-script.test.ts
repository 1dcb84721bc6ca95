import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { RedisScript } from "../../src/shared/redis-script.js";
import { REDIS_URL } from "../support/test-app.js";

const redis = new Redis(REDIS_URL);
afterAll(() => redis.quit());

describe("RedisScript", () => {
  it("runs with as many keys as each call brings, loading itself into a Redis that does not know it yet", async () => {
    // A script no Redis has seen: the first run finds no SHA and falls back to EVAL, which loads it.
    const script = new RedisScript(`-- ${randomUUID()}\nreturn {#KEYS, KEYS[#KEYS], ARGV[1]}`);
    expect(await script.run(redis, ["a"], ["x"])).toEqual([1, "a", "x"]);
    expect(await script.run(redis, ["a", "b", "c"], [7])).toEqual([3, "c", "7"]);
  });

  it("passes a script's own error on", async () => {
    const failing = new RedisScript(`-- ${randomUUID()}\nreturn redis.error_reply('ERR refused by the script')`);
    await expect(failing.run(redis, ["a"], [])).rejects.toThrow("refused by the script");
  });
});
