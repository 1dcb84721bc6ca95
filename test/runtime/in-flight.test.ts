import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { InFlightSends, readInFlight } from "../../src/runtime/in-flight.js";
import { laneId, runtimeKeys, throttledLane, unthrottledLane } from "../../src/runtime/keys.js";
import { testRedis } from "../support/test-app.js";

// Sends in progress per lane, as the console shows them: counted by each worker process in memory, published to one
// hash every second, added up over the processes that published lately.

const redis = testRedis();
const keys = runtimeKeys(`sluice-test-${randomBytes(6).toString("hex")}`);
afterAll(async () => {
  await redis.del(keys.inFlight());
  redis.disconnect();
});

/** A send that lasts until `finish` is called. */
function pendingSend(): { finish(): void; done: Promise<void> } {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return { finish, done };
}

describe("in-flight sends", () => {
  const lane = throttledLane("00000000-0000-4000-8000-00000000000a");
  const other = unthrottledLane("ORG@AdobeOrg");

  it("adds up what each process has in flight per lane, and drops a process's entry once it has nothing in flight", async () => {
    const [first, second] = [new InFlightSends(redis, keys), new InFlightSends(redis, keys)];
    const sends = [pendingSend(), pendingSend(), pendingSend()];
    const running = [first.during(lane, () => sends[0]!.done), first.during(other, () => sends[1]!.done), second.during(lane, () => sends[2]!.done)];
    await Promise.all([first.publish("first"), second.publish("second")]);
    const counted = await readInFlight(redis, keys);
    expect(counted.get(laneId(lane))).toBe(2);
    expect(counted.get(laneId(other))).toBe(1);

    sends[0]!.finish();
    sends[2]!.finish();
    await Promise.all([running[0], running[2]]);
    await Promise.all([first.publish("first"), second.publish("second")]);
    const after = await readInFlight(redis, keys);
    expect(after.get(laneId(lane))).toBeUndefined();
    expect(after.get(laneId(other))).toBe(1);
    expect(await redis.hlen(keys.inFlight())).toBe(1);

    sends[1]!.finish();
    await running[1];
    await first.publish("first");
    expect(await redis.exists(keys.inFlight())).toBe(0);
  });

  it("counts a send that failed as ended", async () => {
    const sends = new InFlightSends(redis, keys);
    await expect(sends.during(lane, () => Promise.reject(new Error("socket hang up")))).rejects.toThrow("socket hang up");
    await sends.publish("third");
    expect((await readInFlight(redis, keys)).size).toBe(0);
  });

  it("stops counting a process that has not published for 3 s, and forgets it after a minute", async () => {
    const now = Date.now();
    await redis.hset(keys.inFlight(), {
      quiet: JSON.stringify({ at: now - 3500, lanes: { [laneId(lane)]: 7 } }),
      dead: JSON.stringify({ at: now - 61_000, lanes: { [laneId(lane)]: 9 } }),
      live: JSON.stringify({ at: now - 500, lanes: { [laneId(lane)]: 2 } }),
    });
    expect((await readInFlight(redis, keys, now)).get(laneId(lane))).toBe(2);
    expect((await redis.hkeys(keys.inFlight())).sort()).toEqual(["live", "quiet"]);
  });
});
