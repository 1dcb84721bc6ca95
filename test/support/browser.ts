import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { REPO_ROOT } from "../process/sluice-process.js";

/** Debian's Chromium (`apt-get install chromium`; .ci/run installs it), or CHROMIUM_PATH. */
const CHROMIUM = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";
/** Where the browser tests leave a screenshot of each page for people to look at (git-ignored). */
export const SCREENSHOT_DIR = resolve(REPO_ROOT, "screenshots");

/** Headless Chromium as this machine runs it: no sandbox (root), and none of its own calls to Google's hosts. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

export interface OfflinePage {
  page: Page;
  /** Requests to anything but the loopback address, which the page was refused. */
  blocked: string[];
  /** Errors the page's scripts threw or logged. */
  errors: string[];
}

/** A new page that may only reach 127.0.0.1 and localhost: any other request is aborted and recorded. */
export async function offlinePage(browser: Browser): Promise<OfflinePage> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  const blocked: string[] = [];
  const errors: string[] = [];
  await page.route("**/*", async (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === "data:" || url.protocol === "blob:" || ["127.0.0.1", "localhost"].includes(url.hostname)) return route.continue();
    blocked.push(url.href);
    await route.abort("blockedbyclient");
  });
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  return { page, blocked, errors };
}

/** Writes `<name>.png` of the page's viewport (or the whole page) to SCREENSHOT_DIR. */
export async function screenshot(page: Page, name: string, fullPage = false): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: resolve(SCREENSHOT_DIR, `${name}.png`), fullPage });
}
