import { beforeAll, describe, expect, it } from "vitest";
import { MAX_BODY_DEPTH, MAX_HEADER_BYTES, MAX_HEADERS, MAX_URL_BYTES } from "../../../src/runtime/accept/call-limits.js";
import { ERRORS } from "../../../src/shared/errors/catalogue.js";
import { expectEnvelope } from "../../support/envelope.js";
import { useTestApp } from "../../support/test-app.js";

// CONTRACT §11 "Call input limits": each refused at acceptance with 400 ERR_CALL_INVALID naming the problem, and
// nothing queued. No worker runs: whatever is accepted stays queued and can be counted.
const ctx = useTestApp();
const TARGET = "https://api.example.org/limits";

const submit = (call: object) => ctx.app.request().post("/runtime/calls").set(ctx.tenant.headers()).send(call);
const submitBatch = (calls: object[]) => ctx.app.request().post("/runtime/calls/batch").set(ctx.tenant.headers()).send({ calls });
const queued = async () => Number((await ctx.app.redis.get(ctx.app.keys.orgQueued(ctx.tenant.orgId))) ?? 0);

const nested = (depth: number): unknown => {
  let value: unknown = "leaf";
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { v: value };
  return value;
};
const headersOf = (count: number, valueBytes = 1) =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => [`x-h${i}`, "v".repeat(valueBytes)]));

/** 400 ERR_CALL_INVALID whose `errors` has an entry at `path` whose message matches `reason`. */
function expectRefused(res: Parameters<typeof expectEnvelope>[0], path: string, reason: RegExp) {
  expectEnvelope(res, { status: 400, code: ERRORS.CALL_INVALID.code, family: "INPUT_OUTPUT_ERROR" });
  const errors = res.body.errors as { path: string; message: string }[];
  expect(errors, JSON.stringify(errors)).toEqual(expect.arrayContaining([{ path, message: expect.stringMatching(reason) }]));
}

describe("call input limits: each refused with 400 and its reason, nothing queued", () => {
  let before: number;
  beforeAll(async () => {
    before = await queued();
  });

  const longUrl = `${TARGET}/${"a".repeat(MAX_URL_BYTES)}`;
  const cases: [string, object, string, RegExp][] = [
    [`a URL over ${MAX_URL_BYTES} bytes`, { method: "GET", url: longUrl }, "url", /at most 8192 bytes/],
    ["a URL that grows past the limit once encoded", { method: "GET", url: `${TARGET}/${"é".repeat(2000)}` }, "url", /8192 bytes/],
    ["credentials in the URL", { method: "GET", url: "https://user:secret@api.example.org/x" }, "url", /credentials/],
    ["credentials in the callbackUrl", { method: "GET", url: TARGET, callbackUrl: "https://user@hooks.example.org/cb" }, "callbackUrl", /credentials/],
    [`${MAX_HEADERS + 1} headers`, { method: "GET", url: TARGET, headers: headersOf(MAX_HEADERS + 1) }, "headers", /at most 64 headers/],
    [`headers over ${MAX_HEADER_BYTES} bytes in all`, { method: "GET", url: TARGET, headers: headersOf(4, 4200) }, "headers", /16384 bytes/],
    ["a header name that is not a token", { method: "GET", url: TARGET, headers: { "x bad": "v" } }, "headers.x bad", /token/],
    ["a header name with a colon", { method: "GET", url: TARGET, headers: { "x:a": "v" } }, "headers.x:a", /token/],
    ["a CR LF in a header value", { method: "GET", url: TARGET, headers: { "x-a": "v\r\nInjected: 1" } }, "headers.x-a", /CR, LF, NUL/],
    ["a bare LF in a header value", { method: "GET", url: TARGET, headers: { "x-a": "v\nw" } }, "headers.x-a", /CR, LF, NUL/],
    ["a NUL in a header value", { method: "GET", url: TARGET, headers: { "x-a": "v\u0000" } }, "headers.x-a", /CR, LF, NUL/],
    ["a character beyond Latin-1 in a header value", { method: "GET", url: TARGET, headers: { "x-a": "\u2713" } }, "headers.x-a", /Latin-1/],
    [`a body nested ${MAX_BODY_DEPTH + 1} levels`, { method: "POST", url: TARGET, body: nested(MAX_BODY_DEPTH + 1) }, "body", /64 levels/],
    ...["Host", "Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive", "Upgrade", "Expect", "TE", "Trailer", "Proxy-Authorization", "proxy-connection"].map(
      (name): [string, object, string, RegExp] => [`the ${name} header`, { method: "GET", url: TARGET, headers: { [name]: "x" } }, `headers.${name}`, /hop-by-hop/],
    ),
  ];

  it.each(cases)("%s", async (_name, call, path, reason) => {
    expectRefused(await submit(call), path, reason);
  });

  it("a batch names the call and field: calls.<i>.<field>", async () => {
    const res = await submitBatch([{ method: "GET", url: TARGET }, { method: "GET", url: TARGET, headers: { "x-a": "\r" } }]);
    expectRefused(res, "calls.1.headers.x-a", /CR, LF, NUL/);
  });

  it("queued nothing for any of them", async () => {
    expect(await queued()).toBe(before);
  });
});

describe("call input limits: what is exactly at each limit is accepted", () => {
  it(`${MAX_HEADERS} headers, a ${MAX_URL_BYTES}-byte URL, a body nested ${MAX_BODY_DEPTH} levels, Latin-1 and tabs in values`, async () => {
    const url = `${TARGET}/`.padEnd(MAX_URL_BYTES, "a");
    const headers = { ...headersOf(MAX_HEADERS - 1), "x-latin": "caf\u00e9\tau lait" };
    const res = await submit({ method: "POST", url, headers, body: nested(MAX_BODY_DEPTH) });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
  });

  it(`headers of exactly ${MAX_HEADER_BYTES} bytes`, async () => {
    const headers = { "x-a": "v".repeat(MAX_HEADER_BYTES - 3) };
    expect((await submit({ method: "GET", url: TARGET, headers })).status).toBe(202);
  });
});
