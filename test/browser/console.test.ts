import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, offlinePage, screenshot } from "../support/browser.js";
import { deployConfig, getCall, submitBatch, useRuntime, waitForCallStates } from "../support/runtime.js";
import { startSink } from "../support/sink.js";

// The operator console in a browser: the admin token's first visit, an org's deployed config with its chart and
// queue moving while a backlog drains, a failed call replayed from its row, and nothing of a call's headers or body.

const TOKEN = "browser-console-token-0123456789";
const SECRET_HEADER = "hdr-secret-31337";
const SECRET_BODY = "body-secret-27182";
const XSS_NAME = '<img src=x onerror="window.xss=1">';

const rt = useRuntime({ startSink, env: { ADMIN_TOKEN: TOKEN } });
const { ctx } = rt;
let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(() => browser?.close());

const figure = (page: Page, uid: string, name: string) => page.locator(`[data-live="${uid}"] [data-field="${name}"]`).textContent();
const sentTotal = async (page: Page, uid: string) => Number(await page.locator(`[data-live="${uid}"] .chart`).getAttribute("data-sent-total"));

describe("/console in a browser", () => {
  it("answers 401 without the admin token", async () => {
    const { page } = await offlinePage(browser);
    const response = await page.goto(`${ctx.app.url}/console`);
    expect(response?.status()).toBe(401);
    expect(await page.textContent("body")).toContain("ERR_UNAUTHORIZED");
  });

  it("shows a deployed config's chart and queue moving as a backlog drains, and replays a failed call", async () => {
    rt.sink.respond((arrival) => {
      if (arrival.path.startsWith("/console/missing")) return { status: 404, body: '{"detail":"no such thing"}' };
      return arrival.path.startsWith("/console/") ? { delayMs: 200 } : {};
    });
    const { uid } = await deployConfig(ctx, { urlPattern: `${rt.sink.url}/console/*`, methods: ["POST"], maxThroughput: 200 });
    // A tenant chooses its config's name: the page shows it as text, never as markup.
    const renamed = await ctx.app.request().put(`/authoring/throttlingConfigs/${uid}`).set(ctx.tenant.headers())
      .send({ name: XSS_NAME, urlPattern: `${rt.sink.url}/console/*`, methods: ["POST"], maxThroughput: 200 });
    expect(renamed.status, renamed.text).toBe(200);
    const [failed] = await submitBatch(ctx, [
      { method: "POST", url: `${rt.sink.url}/console/missing`, headers: { "X-Api-Key": SECRET_HEADER }, body: { token: SECRET_BODY } },
    ]);
    await waitForCallStates(ctx, [failed!.callId], ["failed"], 10_000);

    const { page, blocked, errors } = await offlinePage(browser);
    const answers: string[] = [];
    page.on("response", (response) => {
      if (new URL(response.url()).pathname.startsWith("/console/api/")) void response.text().then((text) => answers.push(text), () => undefined);
    });
    const first = await page.goto(`${ctx.app.url}/console?token=${TOKEN}`);
    expect(first?.status()).toBe(200);
    expect(new URL(page.url()).search).toBe("");

    await page.locator(`[data-org="${ctx.tenant.orgId}"]`).click();
    await page.locator(`[data-config="${uid}"]`).waitFor();
    expect(await page.locator(`[data-config="${uid}"]`).textContent()).toContain(XSS_NAME);
    expect(await page.locator("#org img").count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { xss?: number }).xss)).toBeUndefined();
    await page.locator(`[data-live="${uid}"] canvas`).waitFor();

    // A backlog of 10 s at the config's 200/s: the queue fills, then shrinks, while the chart's sends add up.
    await submitBatch(ctx, Array.from({ length: 2000 }, (_, i) => ({ method: "POST", url: `${rt.sink.url}/console/${i}` })));
    await expect.poll(async () => Number(await figure(page, uid, "queued")), { timeout: 10_000 }).toBeGreaterThan(500);
    const queuedEarly = Number(await figure(page, uid, "queued"));
    const sentEarly = await sentTotal(page, uid);
    await expect.poll(async () => Number(await figure(page, uid, "inFlight")), { timeout: 10_000 }).toBeGreaterThan(0);
    expect(await figure(page, uid, "oldest")).toMatch(/\d+(\.\d)? (ms|s)/);
    await expect.poll(async () => Number(await figure(page, uid, "queued")), { timeout: 10_000 }).toBeLessThan(queuedEarly - 200);
    // The chart counts whole seconds: it may show the sends of the last second a refresh after the queue did.
    await expect.poll(() => sentTotal(page, uid), { timeout: 5000 }).toBeGreaterThan(sentEarly + 200);
    expect(await figure(page, uid, "paused")).toBe("not paused");
    await screenshot(page, "console", true);

    // The failed call's row: its status and error, then a replay from its button.
    const row = page.locator(`[data-call="${failed!.callId}"]`);
    await row.waitFor({ timeout: 10_000 });
    expect(await row.textContent()).toContain("404");
    await row.locator("button[data-replay]").click();
    await expect.poll(() => row.textContent(), { timeout: 5000 }).toMatch(/replayed as \S+/);
    const replayedAs = /replayed as (\S+)/.exec((await row.textContent()) ?? "")![1]!;
    expect(await getCall(ctx, replayedAs)).toMatchObject({ replayOf: failed!.callId, url: `${rt.sink.url}/console/missing` });

    const page_ = await page.content();
    for (const secret of [SECRET_HEADER, SECRET_BODY, "no such thing"]) {
      expect(page_).not.toContain(secret);
      for (const answer of answers) expect(answer).not.toContain(secret);
    }
    expect(answers.length).toBeGreaterThan(5);
    expect(blocked).toEqual([]);
    expect(errors).toEqual([]);
  });
});
