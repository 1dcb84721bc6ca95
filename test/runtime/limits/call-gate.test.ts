import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { CallGate } from "../../../src/runtime/limits/call-gate.js";
import { SlidingWindows, type WindowLimit } from "../../../src/shared/sliding-window.js";
import { useTestApp } from "../../support/test-app.js";

const ctx = useTestApp();
let windows: SlidingWindows;
let gate: CallGate;
beforeAll(() => {
  windows = new SlidingWindows(ctx.app.redis);
  gate = new CallGate(windows, () => undefined);
});
const window = (max: number, maxConnections?: number): WindowLimit => ({
  window: `test:gate:{${randomUUID()}}:window`,
  max,
  windowMs: 1000,
  bucketMs: 0,
  ...(maxConnections ? { leases: { key: `test:gate:{${randomUUID()}}:leases`, maxConnections } } : {}),
});

describe("a call's gate over several limits", () => {
  it("takes a place in every window, or in none: a full window gives back the places the others gave", async () => {
    const [roomy, full] = [window(5), window(1)];
    expect("taken" in (await gate.take([full], "other"))).toBe(true);
    const refused = await gate.take([roomy, full], "call");
    expect("waitMs" in refused && refused.waitMs > 900).toBe(true);
    expect(await ctx.app.redis.zcard(roomy.window)).toBe(0);
    const both = await gate.take([roomy, window(1)], "call");
    expect("taken" in both && both.taken).toHaveLength(2);
  });

  it("leases a connection under every cap, or none", async () => {
    const [open, busy] = [window(10, 2), window(10, 1)];
    expect(await gate.leaseAll([busy], "other", 10_000)).toBe(true);
    expect(await gate.leaseAll([open, busy], "call", 10_000)).toBe(false);
    expect(await ctx.app.redis.zcard(open.leases!.key)).toBe(0);
  });

  it("keeps a waiting call's connection leased however long it waits, and lets it lapse once nobody renews it", async () => {
    const capped = window(10, 1);
    expect(await gate.leaseAll([capped], "waiting", 150)).toBe(true);
    await gate.renewing([capped], "waiting", 150, () => sleep(500));
    expect(await windows.lease(capped, "another", 150)).toBe(false);
    await sleep(200);
    expect(await windows.lease(capped, "another", 150)).toBe(true);
  });
});
