import { withDeadline } from "../shared/deadline.js";
import type { Logger } from "../shared/logger.js";
import type { RedisClient } from "../shared/redis.js";

/**
 * While the feed is subscribed, a cached lookup lives this long: a change is announced, so the TTL only bounds
 * what a lost announcement can leave stale.
 */
export const SUBSCRIBED_TTL_MS = 60_000;
/** While it is not (Redis unreachable, or reconnecting), nothing cached is older than this (CONTRACT §7: within 1 s). */
export const UNSUBSCRIBED_TTL_MS = 1_000;
/** An API request that changed an org waits this long at most for its announcement. */
const ANNOUNCE_DEADLINE_MS = 500;
/** Cached lookups per cache, past which the oldest are dropped. */
const MAX_ENTRIES = 20_000;

/** What changed about an org: its credentials, sandboxes, plan or raises, or what it has deployed. */
export type OrgChange = "tenancy" | "deploys";

/**
 * Announces that something cached about an org changed: every API process drops what it cached of that kind about
 * the org. A failed announcement is not fatal: the caches' TTL catches up.
 */
export async function announceOrgChange(redis: RedisClient, channel: string, change: OrgChange, orgId: string): Promise<void> {
  await redis.publish(channel, `${change}:${orgId}`);
}

interface Entry<V> {
  orgId: string;
  value: V;
  expiresAt: number;
}

/** In-process lookups keyed by anything, each belonging to an org, dropped when the org changes (OrgChangeFeed). */
export class OrgCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  /** Bumped by every drop: a load that began before one must not store what it read. */
  private generation = 0;

  constructor(private readonly ttlMs: () => number) {}

  /** The cached value, else `load`'s, cached unless the org changed while it ran (or it found nothing). */
  async get(key: string, load: () => Promise<{ orgId: string; value: V } | undefined>): Promise<V | undefined> {
    const hit = this.entries.get(key);
    if (hit && hit.expiresAt > Date.now()) return hit.value;
    const generation = this.generation;
    const loaded = await load();
    if (!loaded) return undefined;
    if (generation === this.generation) {
      if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
      this.entries.delete(key);
      this.entries.set(key, { ...loaded, expiresAt: Date.now() + this.ttlMs() });
    }
    return loaded.value;
  }

  forgetOrg(orgId: string): void {
    this.generation++;
    for (const [key, entry] of this.entries) if (entry.orgId === orgId) this.entries.delete(key);
  }

  forgetAll(): void {
    this.generation++;
    this.entries.clear();
  }
}

/**
 * The API process' end of the announcements: a subscription of its own that drops the org's cached lookups as each
 * change arrives, and all of them whenever the subscription was lost (announcements may have been missed then).
 */
export class OrgChangeFeed {
  private readonly caches: { change: OrgChange; cache: OrgCache<unknown> }[] = [];
  private subscribed = false;

  /** `subscriber`: a connection of its own, which subscribing takes over. */
  constructor(private readonly deps: { redis: RedisClient; subscriber: RedisClient; channel: string; logger: Logger }) {}

  /** A cache whose entries are dropped when a `change` to their org is announced. */
  cache<V>(change: OrgChange): OrgCache<V> {
    const cache = new OrgCache<V>(() => (this.subscribed ? SUBSCRIBED_TTL_MS : UNSUBSCRIBED_TTL_MS));
    this.caches.push({ change, cache: cache as OrgCache<unknown> });
    return cache;
  }

  /**
   * Announces a change made by this process: its own caches forget the org at once (its next request must see the
   * change), every other process' when the announcement arrives. A failed announcement is logged, not thrown.
   */
  async announce(change: OrgChange, orgId: string): Promise<void> {
    this.forgetOrg(change, orgId);
    await withDeadline(announceOrgChange(this.deps.redis, this.deps.channel, change, orgId), ANNOUNCE_DEADLINE_MS).catch((error: unknown) => {
      this.deps.logger.warn({ err: error, orgId }, "org change not announced: other API processes see it within their cache TTL");
    });
  }

  /** Subscribes in the background: an unreachable Redis leaves the caches on their short TTL until it comes back. */
  start(): void {
    const { subscriber } = this.deps;
    subscriber.on("error", (error: unknown) => this.deps.logger.debug({ err: error }, "org change feed: redis connection error"));
    subscriber.on("message", (_channel: string, message: string) => {
      const at = message.indexOf(":");
      this.forgetOrg(message.slice(0, at) as OrgChange, message.slice(at + 1));
    });
    subscriber.on("close", () => this.lost());
    // ioredis subscribes again on every reconnect, then reports ready.
    subscriber.on("ready", () => void this.confirm(subscriber));
    void this.confirm(subscriber);
  }

  async stop(): Promise<void> {
    this.lost();
    this.deps.subscriber.disconnect();
  }

  private async confirm(subscriber: RedisClient): Promise<void> {
    try {
      await subscriber.subscribe(this.deps.channel);
    } catch {
      return; // the next "ready" tries again
    }
    this.forgetAll();
    this.subscribed = true;
  }

  private lost(): void {
    this.subscribed = false;
    this.forgetAll();
  }

  private forgetOrg(change: OrgChange, orgId: string): void {
    for (const entry of this.caches) if (entry.change === change) entry.cache.forgetOrg(orgId);
  }

  private forgetAll(): void {
    for (const { cache } of this.caches) cache.forgetAll();
  }
}
