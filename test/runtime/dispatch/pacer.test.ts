import { describe, expect, it } from "vitest";
import { throttledLane, unthrottledLane, limitedLaneOfCall, type ThrottledLane } from "../../../src/runtime/keys.js";
import { Pacer } from "../../../src/runtime/dispatch/pacer.js";
import { callsTo, deployConfig, getCall, submitBatch, useRuntime } from "../../support/runtime.js";
import { startSink } from "../../support/sink.js";

// The start of a send (BEGIN), with no worker running: the calls of one lane starting in the same event-loop turn
// go to Redis together, and each is checked as if it had come alone.
const rt = useRuntime({ startSink, workers: 0 });
const { ctx } = rt;
const pacer = () => new Pacer(ctx.app.redis, ctx.app.keys);

describe("pacer: sends starting together", () => {
  it("each counts against the lane's last second in turn: with room for 3, 3 go and the rest wait; a gone call is told so", async () => {
    await deployConfig(ctx, { urlPattern: `${rt.sink.url}/together/*`, methods: ["POST"], maxThroughput: 200 });
    const accepted = await submitBatch(ctx, callsTo(`${rt.sink.url}/together/`, 5));
    const versionId = (limitedLaneOfCall(accepted[0]!.callId) as ThrottledLane).runtimeVersionId;
    const lane = throttledLane(versionId);
    const starter = pacer();
    await starter.setRate(lane, 3);
    const gone = `${accepted[0]!.callId.split(".")[0]}.AAAAAAAAAAAAAAAA`;
    const begun = await Promise.all(
      [...accepted.map((call) => call.callId), gone].map((callId, i) => starter.begin(lane, rt.sink.url, callId, `send-${i}`)),
    );
    expect(begun.slice(0, 3)).toEqual(Array(3).fill({ kind: "go", attempts: 1, spentMs: 0, issuedAt: expect.any(Number) }));
    for (const waiting of begun.slice(3, 5)) expect(waiting).toMatchObject({ kind: "wait", paused: false, ms: expect.any(Number) });
    expect(begun[5]).toEqual({ kind: "gone" });
    expect(await ctx.app.redis.zcard(ctx.app.keys.sendLog(versionId))).toBe(3);
    expect(await getCall(ctx, accepted[0]!.callId)).toMatchObject({ state: "sending", attempts: 1 });
    expect(await getCall(ctx, accepted[4]!.callId)).toMatchObject({ state: "queued", attempts: 0 });
  });

  it("unthrottled: a pause holds the calls to its origin only, even when they start with calls to another origin", async () => {
    // The same sink under another name: another origin, which the egress policy lets through.
    const other = rt.sink.url.replace("127.0.0.1", "localhost");
    const [toSink, toOther] = await submitBatch(ctx, [...callsTo(`${rt.sink.url}/free/`, 1), ...callsTo(`${other}/free/`, 1)]);
    const lane = unthrottledLane(ctx.tenant.orgId);
    const starter = pacer();
    await starter.pause(lane, other, Date.now() + 60_000);
    const [sinkBegun, otherBegun] = await Promise.all([
      starter.begin(lane, rt.sink.url, toSink!.callId, "a"),
      starter.begin(lane, other, toOther!.callId, "b"),
    ]);
    expect(sinkBegun).toMatchObject({ kind: "go", attempts: 1 });
    expect(otherBegun).toMatchObject({ kind: "wait", paused: true });
    expect(otherBegun.kind === "wait" && otherBegun.ms).toBeGreaterThan(50_000);
  });
});
