import { describe, expect, it } from "vitest";
import { useRuntime } from "../support/runtime.js";
import { startTimingSink } from "../support/timing-sink.js";
import { spanMs, stallAware } from "../support/timing.js";

const rt = useRuntime({ startSink: startTimingSink, scope: "test" });
const { ctx } = rt;

describe("throttled dispatch", () => {
  it("N=200: 600 calls at once arrive all, never more than 200 in a sliding second, over ~3 s", async () => {
    const headers = ctx.tenant.headers();
    const created = await ctx.app.request().post("/authoring/throttlingConfigs").set(headers)
      .send({ urlPattern: `${rt.sink.url}/limited/*`, methods: ["POST"], maxThroughput: 200 });
    expect(created.status).toBe(200);
    expect((await ctx.app.request().post(`/authoring/throttlingConfigs/${created.body.uid}/deploy`).set(headers)).status).toBe(204);

    const calls = Array.from({ length: 600 }, (_, i) => ({ method: "POST", url: `${rt.sink.url}/limited/${i}`, body: { i } }));
    const res = await ctx.app.request().post("/runtime/calls/batch").set(headers).send({ calls });
    expect(res.status).toBe(202);
    expect(res.body.calls.every((c: { throttled: boolean }) => c.throttled)).toBe(true);

    await rt.sink.waitForArrivals(600, { pathPrefix: "/limited/", timeoutMs: 15_000 });
    const times = rt.sink.arrivalTimes("/limited/");
    const measured = stallAware(rt.sink.stalls);
    expect(measured.maxInWindow(times)).toBeLessThanOrEqual(200);
    expect(spanMs(times)).toBeGreaterThanOrEqual(2900 - measured.longestMs);
    expect(spanMs(times)).toBeLessThanOrEqual(3500 + measured.stalledMs(times[0]!, times.at(-1)!));
  });
});
