import { describe, expect, it } from "vitest";
import { callsTo, deploy, deployConfig, submitBatch, undeploy, updateConfig, useRuntime } from "../support/runtime.js";
import { startTimingSink } from "../support/timing-sink.js";
import { countInWindow, preciseNow, stallAware } from "../support/timing.js";

const rt = useRuntime({ startSink: startTimingSink, workers: 2, scope: "test" });
const { ctx } = rt;

describe("redeploying while the previous runtime version drains", () => {
  it("the draining version 1 keeps its 200/s while the new version 2 sends at its own 400/s, at the same time", async () => {
    const { uid } = await deployConfig(ctx, { urlPattern: `${rt.sink.url}/a/*`, methods: ["POST"], maxThroughput: 200 });
    const first = await submitBatch(ctx, callsTo(`${rt.sink.url}/a/`, 800));
    expect(first.every((call) => call.throttled && call.runtimeVersion === 1)).toBe(true);

    await undeploy(ctx, uid);
    expect(await updateConfig(ctx, uid, { urlPattern: `${rt.sink.url}/b/*`, methods: ["POST"], maxThroughput: 400 })).toBe("updated");
    await deploy(ctx, uid);
    // The API runs in this process, next to the sink: while it accepts a batch, the sink stamps arrivals late and
    // bunched. Windows overlapping that time say nothing about the sender, so they are left out below.
    const submitting = preciseNow();
    const second = await submitBatch(ctx, callsTo(`${rt.sink.url}/b/`, 1000));
    const submitted = preciseNow() + 50;
    expect(second.every((call) => call.throttled && call.runtimeVersion === 2)).toBe(true);

    await Promise.all([
      rt.sink.waitForArrivals(800, { pathPrefix: "/a/", timeoutMs: 15_000 }),
      rt.sink.waitForArrivals(1000, { pathPrefix: "/b/", timeoutMs: 15_000 }),
    ]);
    const a = rt.sink.arrivalTimes("/a/");
    const b = rt.sink.arrivalTimes("/b/");
    const measurable = (times: number[]) => [times.filter((t) => t < submitting), times.filter((t) => t >= submitted)];
    const measured = stallAware(rt.sink.stalls);
    for (const part of measurable(a)) expect(measured.maxInWindow(part)).toBeLessThanOrEqual(200);
    for (const part of measurable(b)) expect(measured.maxInWindow(part)).toBeLessThanOrEqual(400);
    // A full second in which both versions make real progress at once (the caps above are the guarantee; this is
    // liveness, with room for two worker processes and the API sharing two cores).
    const overlap = Math.max(b[0]!, submitted) + 200;
    expect(countInWindow(a, overlap, overlap + 1000)).toBeGreaterThanOrEqual(measured.floor(160, 200, overlap, overlap + 1000));
    expect(countInWindow(b, overlap, overlap + 1000)).toBeGreaterThanOrEqual(measured.floor(320, 400, overlap, overlap + 1000));
  });
});
