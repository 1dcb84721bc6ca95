import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { nextAttemptAt, signatureHeaders } from "../../../src/runtime/callbacks/callback-deliverer.js";
import { CALLBACK_RETRY_BASE_MS } from "../../../src/runtime/settings.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe("the callback retry schedule (CONTRACT §10)", () => {
  it("waits 5 s after the first failure, doubling, never more than 30 min between tries", () => {
    const since = 0;
    const delays: number[] = [];
    let now = since;
    for (let failed = 1; failed <= 12; failed++) {
      const at = nextAttemptAt(failed, since, now, CALLBACK_RETRY_BASE_MS)!;
      delays.push(at - now);
      now = at;
    }
    expect(delays.slice(0, 6)).toEqual([5000, 10_000, 20_000, 40_000, 80_000, 160_000]);
    expect(delays.slice(9)).toEqual([30 * MINUTE, 30 * MINUTE, 30 * MINUTE]);
  });

  it("stops once the next try would come more than 24 h after the call ended", () => {
    expect(nextAttemptAt(30, 0, 23 * HOUR, CALLBACK_RETRY_BASE_MS)).toBe(23.5 * HOUR);
    expect(nextAttemptAt(30, 0, 23.6 * HOUR, CALLBACK_RETRY_BASE_MS)).toBeUndefined();
  });
});

describe("signatureHeaders", () => {
  const secret = `whsec_${Buffer.alloc(24, 1).toString("base64")}`;
  const previous = `whsec_${Buffer.alloc(24, 2).toString("base64")}`;

  it("signs `<id>.<timestamp>.<body>` as Standard Webhooks do, once per secret", () => {
    const body = JSON.stringify({ callId: "u-x.y", state: "failed" });
    const headers = signatureHeaders("u-x.y", body, [secret, previous], new Date());
    expect(headers["webhook-id"]).toBe("u-x.y");
    expect(headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    for (const key of [secret, previous]) expect(new Webhook(key).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(secret).verify(`${body} `, headers)).toThrow();
  });
});
