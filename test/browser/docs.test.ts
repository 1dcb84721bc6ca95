import { readFileSync } from "node:fs";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { OPENAPI_PATH } from "../../src/http/docs.js";
import { launchChromium, offlinePage, screenshot } from "../support/browser.js";
import { useTestApp } from "../support/test-app.js";

// CONTRACT §8: /docs is an interactive reference a browser renders from Sluice alone (every non-loopback request
// is refused here), listing every operation of openapi.yaml, whose "Try it out" reaches the running service.

const spec = parse(readFileSync(OPENAPI_PATH, "utf8")) as { paths: Record<string, Record<string, unknown>> };
const METHODS = new Set(["get", "put", "post", "delete", "patch"]);
const documented = Object.entries(spec.paths)
  .flatMap(([path, operations]) => Object.keys(operations).filter((method) => METHODS.has(method)).map((method) => `${method.toUpperCase()} ${path}`))
  .sort();

const ctx = useTestApp();
let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(() => browser?.close());

describe("/docs in a browser", () => {
  it("renders every operation of openapi.yaml offline, and runs one against this service", async () => {
    const { page, blocked, errors } = await offlinePage(browser);
    const response = await page.goto(`${ctx.app.url}/docs`);
    expect(response?.status()).toBe(200);
    await page.locator(".opblock").first().waitFor({ timeout: 15_000 });
    await expect.poll(() => page.locator(".opblock").count(), { timeout: 10_000 }).toBe(documented.length);

    const rendered = await page.locator(".opblock").evaluateAll((blocks) =>
      blocks.map((block) => {
        const method = block.querySelector(".opblock-summary-method")?.textContent ?? "";
        const path = block.querySelector(".opblock-summary-path")?.getAttribute("data-path") ?? "";
        return `${method.toUpperCase()} ${path}`;
      }),
    );
    expect(rendered.sort()).toEqual(documented);
    await expect.poll(() => page.locator(".info .title").textContent()).toContain("Sluice");

    // "Try it out" on the liveness probe: the request goes to this service and its answer is shown.
    const healthz = page.locator(".opblock", { has: page.locator('.opblock-summary-path[data-path="/healthz"]') });
    await healthz.locator(".opblock-summary").click();
    await healthz.getByRole("button", { name: "Try it out" }).click();
    await healthz.getByRole("button", { name: "Execute" }).click();
    const liveResponse = healthz.locator(".live-responses-table tbody .response-col_status").first();
    await expect.poll(() => liveResponse.textContent(), { timeout: 10_000 }).toBe("200");
    await expect.poll(() => healthz.locator(".request-url pre").textContent()).toBe(`${ctx.app.url}/healthz`);

    await screenshot(page, "api-reference");
    expect(blocked).toEqual([]);
    expect(errors).toEqual([]);
  });
});
