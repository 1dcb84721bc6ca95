import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { startApiProcess } from "../../support/api-process.js";
import { useRuntime, waitForCallStates } from "../../support/runtime.js";
import { startSink } from "../../support/sink.js";
import { waitFor } from "../../support/timing.js";

// CONTRACT §10 fault test: an API process SIGKILLed while batches are being accepted. Every call that got a 202 is
// delivered, and the org's queued count comes back to its real value (0 once all is sent): room reserved for calls
// the API never wrote is freed by the reconciler.
const rt = useRuntime({ startSink });
const { ctx } = rt;
const SUBMITTERS = 6;
const BATCH = 50;

describe("an API process killed while accepting batches", () => {
  it("delivers every call it answered 202, and leaks no capacity", { timeout: 120_000 }, async () => {
    const api = await startApiProcess(ctx.app);
    const accepted: string[] = [];
    let refused = 0;
    let batchNo = 0;
    let stop = false;
    const submitter = async () => {
      while (!stop) {
        const batch = batchNo++;
        const calls = Array.from({ length: BATCH }, (_, i) => ({ method: "POST", url: `${rt.sink.url}/kill/${batch}-${i}`, body: { batch, i } }));
        try {
          const res = await fetch(`${api.url}/runtime/calls/batch`, {
            method: "POST",
            headers: { ...ctx.tenant.headers(), "content-type": "application/json" },
            body: JSON.stringify({ calls }),
          });
          if (res.status !== 202) throw new Error(`status ${res.status}`);
          accepted.push(...((await res.json()) as { calls: { callId: string }[] }).calls.map((call) => call.callId));
        } catch {
          refused += 1;
          if (stop) return;
          await sleep(10);
        }
      }
    };
    const submitting = Promise.all(Array.from({ length: SUBMITTERS }, submitter));
    await waitFor(async () => accepted.length >= 20 * BATCH, { timeoutMs: 30_000, message: "batches accepted" });
    api.process.kill("SIGKILL");
    await api.process.exited;
    stop = true;
    await submitting;
    expect(refused).toBeGreaterThan(0);

    const records = await waitForCallStates(ctx, accepted, ["succeeded"], 60_000);
    expect(records).toHaveLength(accepted.length);
    const arrived = new Set(rt.sink.arrivalsFor("/kill/").map((arrival) => arrival.path));
    const lost = records.filter((record) => !arrived.has(new URL(record.url).pathname));
    const countedAt = Date.now();
    await waitFor(async () => Number(await ctx.app.redis.get(ctx.app.keys.orgQueued(ctx.tenant.orgId))) === 0, {
      timeoutMs: 60_000,
      message: "the org's queued count back to 0",
    });
    console.info(`API killed after ${accepted.length} calls answered 202 (${batchNo} batches sent): ${lost.length} lost, ` +
      `${rt.sink.arrivalsFor("/kill/").length - arrived.size} duplicates, ${arrived.size - accepted.length} delivered without a 202; ` +
      `queued count reconciled in ${Date.now() - countedAt} ms`);
    expect(lost).toEqual([]);
  });
});
