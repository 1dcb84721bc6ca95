import type { Redis } from "ioredis";
import type { Db } from "../db/prisma.js";
import type { CallStore } from "./call-store.js";
import type { RuntimeKeys } from "./keys.js";
import type { RuntimeQueues } from "./queues.js";
import type { UnthrottledLanes } from "./unthrottled-lanes.js";

/** Where the runtime's state lives, as the call API, the workers and the sweeper reach it. */
export interface RuntimeStores {
  db: Db;
  redis: Redis;
  keys: RuntimeKeys;
  queues: RuntimeQueues;
  records: CallStore;
  unthrottled: UnthrottledLanes;
}
