import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectEnvelope } from "../support/envelope.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";
import { startTestApp, type Tenant, type TestApp } from "../support/test-app.js";

// CONTRACT §7: failed authentications per client address, 30 per minute by default; past it, 429 before any
// database lookup. The app reaches Postgres through a proxy the test cuts, so a lookup would fail with 503.
let proxy: TcpProxy;
let app: TestApp;
let tenant: Tenant;
beforeAll(async () => {
  proxy = await startTcpProxy(5432);
  app = await startTestApp({ AUTH_FAILURES_PER_MINUTE: "30" }, { databasePort: proxy.port });
  tenant = await app.createTenant();
});
afterAll(async () => {
  proxy?.restore();
  await app?.close();
  await proxy?.close();
});

const list = (headers: Record<string, string>) => app.request().post("/authoring/list/throttlingConfigs").set(headers);
const wrongToken = (address: string) => ({ ...tenant.headers(), Authorization: "Bearer sluice_wrong", "X-Forwarded-For": address });

describe("failed authentications from one address", () => {
  it("the 31st in a minute gets 429 with Retry-After without a database lookup; other addresses are looked up", async () => {
    for (let i = 0; i < 30; i++) expect((await list(wrongToken("203.0.113.7"))).status).toBe(401);

    proxy.cut();
    const refused = await list(wrongToken("203.0.113.7"));
    expectEnvelope(refused, { status: 429, code: "ERR_RATE_LIMITED", family: "RATE_LIMIT_ERROR" });
    const retryAfter = Number(refused.headers["retry-after"]);
    expect(retryAfter >= 55 && retryAfter <= 60).toBe(true);
    // Even a valid credential from that address is refused before any lookup.
    expect((await list({ ...tenant.headers(), "X-Forwarded-For": "203.0.113.7" })).status).toBe(429);
    expect((await app.request().post("/runtime/calls").set({ ...tenant.headers(), "X-Forwarded-For": "203.0.113.7" })).status).toBe(429);

    // Another address' attempt does need the database, which is unreachable: so the 429s above never asked it.
    const looked = await list({ ...wrongToken("203.0.113.8"), "x-api-key": "sluice-never-cached" });
    expect(looked.status).toBe(503);
  });
});
