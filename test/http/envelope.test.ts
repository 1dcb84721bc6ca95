import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { expectEnvelope } from "../support/envelope.js";
import { useTestApp } from "../support/test-app.js";

// CONTRACT §2 (unknown sandbox) and §5 (error envelope, request ids).

const UNKNOWN_UID = "00000000-0000-4000-8000-000000000000";
const NOT_FOUND = {
  status: 404,
  code: 14467,
  family: "INPUT_OUTPUT_ERROR",
  message: "throttling config not found",
};

const ctx = useTestApp();

const getUnknown = (sandbox?: string) =>
  ctx.app.request().get(`/authoring/throttlingConfigs/${UNKNOWN_UID}`).set(ctx.tenant.headers(sandbox));

/** Sends a hand-written HTTP/1.1 request (for headers a normal client refuses to send) and returns the raw answer. */
function rawRequest(head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(new URL(ctx.app.url).port), "127.0.0.1");
    let answer = "";
    socket.on("data", (chunk) => (answer += chunk.toString()));
    socket.on("end", () => resolve(answer));
    socket.on("error", reject);
    socket.end(`${head}\r\nConnection: close\r\n\r\n`);
  });
}

describe("the error envelope", () => {
  it("has exactly status, error (a JSON string) and requestId", async () => {
    const res = await getUnknown();
    expectEnvelope(res, NOT_FOUND);
    expect(Object.keys(res.body).sort()).toEqual(["error", "requestId", "status"]);
    expect(typeof res.body.error).toBe("string");
  });

  it("names the sandbox's collection in schema", async () => {
    expectEnvelope(await getUnknown(), { ...NOT_FOUND, schema: "throttlingConfigs$prod" });
    expectEnvelope(await getUnknown("dev"), {
      status: 400,
      code: 1463,
      family: "INPUT_OUTPUT_ERROR",
      message: "Operation not allowed on throttling config: non prod sandbox",
      schema: "throttlingConfigs$dev",
    });
  });

  it("answers an unknown sandbox exactly like the seed's 4000 example", async () => {
    const res = await getUnknown("nope");
    const { inner } = expectEnvelope(res, {
      status: 500,
      code: 4000,
      family: "INTERNAL_ERROR",
      message: "INTERNAL ERROR",
      schema: null,
    });
    expect(Object.keys(inner).sort()).toEqual(["code", "context", "family", "message", "service", "version"]);
  });

  it.each(["/authoring/throttlingConfigs/%E0%A4%A", "/runtime/calls/%E0%A4%A", "/runtime/calls/%zz"])(
    "answers a path parameter that is not valid percent-encoding (%s) with 404, not 500",
    async (path) => {
      const res = await ctx.app.request().get(path).set(ctx.tenant.headers());
      const { inner } = expectEnvelope(res, { status: 404, code: "ERR_ROUTE_NOT_FOUND", family: "INPUT_OUTPUT_ERROR" });
      expect(inner.context).toMatch(/^Failed to decode param/);
    },
  );
});

describe("request ids", () => {
  it("reuses an incoming x-request-id in the body and the header", async () => {
    const requestId = "client-trace_42.A";
    expectEnvelope(await getUnknown().set("x-request-id", requestId), { ...NOT_FOUND, requestId });
    const ok = await ctx.app.request().post("/authoring/list/throttlingConfigs").set(ctx.tenant.headers()).set("x-request-id", requestId);
    expect(ok.status).toBe(200);
    expect(ok.headers["x-request-id"]).toBe(requestId);
  });

  it.each([
    ["300 characters long", "a".repeat(300)],
    ["with spaces and quotes", 'abc" , "injected": "1'],
    ["with a tab and a brace", "abc\t{}"],
  ])("replaces an x-request-id %s with a generated one", async (_label, incoming) => {
    const { requestId } = expectEnvelope(await getUnknown().set("x-request-id", incoming), NOT_FOUND);
    expect(requestId).not.toBe(incoming);
  });

  // Node's HTTP parser refuses line breaks inside a header before any middleware runs.
  it.each([["a folded line", "abc\r\n evil: 1"], ["a bare LF", "abc\nevil: 1"], ["a bare CR", "abc\revil"]])(
    "refuses an x-request-id containing %s",
    async (_label, incoming) => {
      const answer = await rawRequest(`GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Request-Id: ${incoming}`);
      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
      expect(answer).not.toMatch(/evil/i);
    },
  );
});
