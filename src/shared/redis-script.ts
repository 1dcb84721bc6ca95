import { createHash } from "node:crypto";
import type { RedisClient } from "./redis.js";

/**
 * A Lua script called with as many keys as each call needs (ioredis' defineCommand fixes the count per command).
 * It goes out as EVALSHA, whose keys route it to their slot on a cluster; a Redis that does not know the script yet
 * gets it once through EVAL.
 */
export class RedisScript {
  private readonly sha: string;

  constructor(private readonly lua: string) {
    this.sha = createHash("sha1").update(lua).digest("hex");
  }

  async run(redis: RedisClient, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      return redis.eval(this.lua, keys.length, ...keys, ...args);
    }
  }
}
