import { describe, expect, it } from "vitest";
import { MAX_PAUSE_MS, pauseUntil } from "../../../src/runtime/dispatch/pause-headers.js";

const NOW = Date.UTC(2030, 0, 1, 0, 0, 0);
const NOW_SECONDS = NOW / 1000;
const at = (seconds: number): number => NOW + seconds * 1000;

describe("pauseUntil", () => {
  describe("Retry-After", () => {
    it.each([
      ["delta-seconds", "120", at(120)],
      ["fractional delta-seconds", "1.5", at(1.5)],
      ["padded delta-seconds", " 30 ", at(30)],
      ["IMF-fixdate", "Tue, 01 Jan 2030 00:05:00 GMT", at(300)],
      ["RFC 850 date", "Tuesday, 01-Jan-30 00:05:00 GMT", at(300)],
      ["asctime date", "Tue Jan  1 00:05:00 2030", at(300)],
    ])("%s %j", (_form, value, expected) => {
      expect(pauseUntil(429, { "retry-after": value }, NOW)).toBe(expected);
    });

    it("matches the header name case-insensitively", () => {
      expect(pauseUntil(503, { "Retry-After": "10" }, NOW)).toBe(at(10));
      expect(pauseUntil(503, { "RETRY-AFTER": "10" }, NOW)).toBe(at(10));
    });

    it("takes the latest of several values", () => {
      expect(pauseUntil(429, { "retry-after": ["5", "20"] }, NOW)).toBe(at(20));
      expect(pauseUntil(429, { "retry-after": "5, 20" }, NOW)).toBe(at(20));
    });
  });

  it("reads RateLimit-Reset as delta-seconds", () => {
    expect(pauseUntil(429, { "ratelimit-reset": "42" }, NOW)).toBe(at(42));
  });

  describe("X-RateLimit-Reset", () => {
    it.each([
      ["unix seconds", String(NOW_SECONDS + 60), at(60)],
      ["unix milliseconds", String(NOW + 2500), at(2.5)],
      ["delta-seconds", "60", at(60)],
      ["1e9 itself is still delta-seconds (capped)", "1000000000", NOW + MAX_PAUSE_MS],
    ])("%s", (_form, value, expected) => {
      expect(pauseUntil(429, { "x-ratelimit-reset": value }, NOW)).toBe(expected);
    });
  });

  describe("RateLimit (IETF structured field)", () => {
    it.each([
      ["current draft, one policy", '"default";r=0;t=7', at(7)],
      ["current draft, token policy name", "default;r=0;t=7", at(7)],
      ["current draft, no r", '"default";t=9', at(9)],
      ["current draft, only the exhausted policy counts", '"burst";r=0;t=2, "daily";r=500;t=3600', at(2)],
      ["current draft, latest exhausted policy", '"burst";r=0;t=2, "daily";r=0;t=3600', at(3600)],
      ["current draft, comma inside a quoted name", '"a,b";r=0;t=4', at(4)],
      ["older draft", "limit=10, remaining=0, reset=7", at(7)],
      ["older draft, upper-case keys", "Limit=10, Remaining=0, Reset=8", at(8)],
    ])("%s: %s", (_form, value, expected) => {
      expect(pauseUntil(429, { ratelimit: value }, NOW)).toBe(expected);
    });

    it("gives nothing when every policy still has quota", () => {
      expect(pauseUntil(429, { ratelimit: '"default";r=3;t=7' }, NOW)).toBeUndefined();
    });
  });

  it("uses the latest instant when several headers are present", () => {
    const headers = {
      "retry-after": "10",
      "ratelimit-reset": "30",
      "x-ratelimit-reset": String(NOW_SECONDS + 20),
      ratelimit: '"default";r=0;t=15',
    };
    expect(pauseUntil(429, headers, NOW)).toBe(at(30));
    expect(pauseUntil(429, { ...headers, "retry-after": "Tue, 01 Jan 2030 00:01:00 GMT" }, NOW)).toBe(at(60));
  });

  it("ignores garbage in one header and uses the others", () => {
    expect(pauseUntil(429, { "retry-after": "soon", "ratelimit-reset": "12" }, NOW)).toBe(at(12));
  });

  it.each([
    ["negative delta", { "retry-after": "-5" }],
    ["words", { "retry-after": "in a minute" }],
    ["number with a unit", { "retry-after": "5s" }],
    ["exponent notation", { "retry-after": "1e3" }],
    ["a date V8 would guess at", { "retry-after": "May 5 2031" }],
    ["ISO date instead of HTTP-date", { "retry-after": "2030-01-01T00:05:00Z" }],
    ["an HTTP-date in the past", { "retry-after": "Mon, 31 Dec 2029 23:00:00 GMT" }],
    ["zero delay", { "retry-after": "0" }],
    ["empty value", { "retry-after": "" }],
    ["undefined value", { "retry-after": undefined }],
    ["garbage RateLimit-Reset", { "ratelimit-reset": "abc" }],
    ["negative X-RateLimit-Reset", { "x-ratelimit-reset": "-60" }],
    ["X-RateLimit-Reset unix time in the past", { "x-ratelimit-reset": String(NOW_SECONDS - 60) }],
    ["RateLimit without t or reset", { ratelimit: '"default";r=0' }],
    ["RateLimit with a garbage t", { ratelimit: '"default";r=0;t=soon' }],
    ["no rate-limit header at all", { "content-type": "text/plain" }],
  ])("gives undefined for %s", (_case, headers) => {
    expect(pauseUntil(429, headers, NOW)).toBeUndefined();
  });

  it("caps a pause at 6 hours", () => {
    expect(pauseUntil(429, { "retry-after": String(7 * 3600) }, NOW)).toBe(NOW + MAX_PAUSE_MS);
    expect(pauseUntil(503, { "x-ratelimit-reset": String(NOW_SECONDS + 86_400) }, NOW)).toBe(NOW + MAX_PAUSE_MS);
    expect(MAX_PAUSE_MS).toBe(6 * 60 * 60 * 1000);
  });

  it.each([200, 301, 400, 401, 404, 500, 502, 504])("ignores the headers on status %i", (status) => {
    expect(pauseUntil(status, { "retry-after": "60", "ratelimit-reset": "60" }, NOW)).toBeUndefined();
  });
});
