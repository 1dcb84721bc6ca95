// What a user gets without Sluice: a plain BullMQ Worker with `limiter { max: N, duration: 1000 }` whose processor
// sends the job's call with undici. Run as its own process by bench/scenarios/precision.ts.
import { Worker } from "bullmq";
import { Redis } from "ioredis";
import { Agent, request } from "undici";
import type { BenchCall } from "./support/calls.js";

const env = (name: string): string => process.env[name] ?? "";
const [redisUrl, prefix, queueName] = [env("RAW_REDIS_URL"), env("RAW_PREFIX"), env("RAW_QUEUE")];
const max = Number(env("RAW_RATE"));
const agent = new Agent({ connections: 128 });
const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });

const worker = new Worker<BenchCall>(
  queueName,
  async (job) => {
    const res = await request(job.data.url, { dispatcher: agent, method: job.data.method, body: job.data.body });
    await res.body.dump();
  },
  // Enough concurrency that the limiter, not the processor, sets the pace.
  { connection, prefix, concurrency: Math.min(1000, Math.max(50, max / 10)), limiter: { max, duration: 1000 }, removeOnComplete: { count: 0 } },
);
await worker.waitUntilReady();
console.log("raw worker ready");
process.on("SIGTERM", () => {
  void worker.close().then(() => connection.quit()).then(() => agent.close()).then(() => process.exit(0));
});
