import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/shared/logger.js";
import type { RedisClient } from "../../src/shared/redis.js";
import { announceOrgChange, OrgChangeFeed, SUBSCRIBED_TTL_MS, UNSUBSCRIBED_TTL_MS } from "../../src/tenancy/org-changes.js";
import { freePort } from "../process/sluice-process.js";
import { testRedis } from "../support/test-app.js";

const logger = createLogger("silent");
const channel = `sluice-test-${randomBytes(6).toString("hex")}:org-changes`;
const clients: RedisClient[] = [];
const feeds: OrgChangeFeed[] = [];
afterEach(async () => {
  await Promise.all(feeds.splice(0).map((feed) => feed.stop()));
  for (const client of clients.splice(0)) client.disconnect();
});

function startFeed(subscriber: RedisClient): OrgChangeFeed {
  const redis = testRedis();
  clients.push(redis, subscriber);
  const feed = new OrgChangeFeed({ redis, subscriber, channel, logger });
  feeds.push(feed);
  feed.start();
  return feed;
}

/** A cached value that counts its loads: each load reads the current `source`. */
function counted(feed: OrgChangeFeed, change: "tenancy" | "deploys" = "tenancy") {
  const cache = feed.cache<number>(change);
  const state = { source: 1, loads: 0 };
  const read = (orgId = "ORG1") => cache.get(orgId, async () => (state.loads++, { orgId, value: state.source }));
  return { state, read };
}

describe("in-process caches dropped by announced org changes", () => {
  it("while subscribed: a value is served from memory until its org's change of its kind is announced", async () => {
    const feed = startFeed(testRedis());
    await sleep(300); // subscribed
    const tenancy = counted(feed, "tenancy");
    const deploys = counted(feed, "deploys");
    expect(await tenancy.read()).toBe(1);
    expect(await deploys.read()).toBe(1);
    tenancy.state.source = deploys.state.source = 2;
    expect(await tenancy.read()).toBe(1);
    expect(tenancy.state.loads).toBe(1);

    await announceOrgChange(testRedisOnce(), channel, "tenancy", "ORG1");
    const announced = Date.now();
    while ((await tenancy.read()) !== 2) {
      expect(Date.now() - announced).toBeLessThan(1_000);
      await sleep(10);
    }
    expect(await tenancy.read("ORG2")).toBe(2); // another org: a first load
    expect(await deploys.read()).toBe(1); // another kind of change: kept
    expect(SUBSCRIBED_TTL_MS).toBeGreaterThan(UNSUBSCRIBED_TTL_MS);
  });

  it("a change made by this process applies to it at once", async () => {
    const feed = startFeed(testRedis());
    const deploys = counted(feed, "deploys");
    await deploys.read();
    deploys.state.source = 2;
    await feed.announce("deploys", "ORG1");
    expect(await deploys.read()).toBe(2);
  });

  it("with Redis unreachable, nothing cached is served for more than 1 s", async () => {
    const deadPort = await freePort();
    const feed = startFeed(new Redis({ port: deadPort, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 1 }));
    const cache = counted(feed);
    expect(await cache.read()).toBe(1);
    cache.state.source = 2;
    expect(await cache.read()).toBe(1);
    await sleep(UNSUBSCRIBED_TTL_MS + 50);
    expect(await cache.read()).toBe(2);
  });
});

function testRedisOnce(): RedisClient {
  const client = testRedis();
  clients.push(client);
  return client;
}
