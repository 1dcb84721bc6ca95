import type { RedisClient } from "../shared/redis.js";
import type { Db } from "../db/prisma.js";
import type { CallStore } from "./call-store.js";
import type { RuntimeKeys } from "./keys.js";
import type { OrgBudget } from "./org-budget.js";
import type { RuntimeQueues } from "./queues.js";
import type { UnthrottledLanes } from "./unthrottled-lanes.js";

/** Where the runtime's state lives, as the call API, the workers and the sweeper reach it. */
export interface RuntimeStores {
  db: Db;
  redis: RedisClient;
  keys: RuntimeKeys;
  queues: RuntimeQueues;
  records: CallStore;
  budget: OrgBudget;
  unthrottled: UnthrottledLanes;
}
