// The docs UI in a real headless Chromium (Debian's, /usr/bin/chromium), with
// every request to anywhere but the server under test refused: /swagger and
// /swagger/ render every operation of the document from the server alone.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";
import { cleanupProcesses, startedServer, type Server } from "../support/server-process";

const CHROMIUM = "/usr/bin/chromium";
const RENDER_MS = 30_000;

describe("the docs UI in headless Chromium, offline", () => {
  let server: Server;
  let browser: BrowserContext;
  let profile: string;
  let summaries: string[];
  /** Requests the page tried to make anywhere but the server under test (all refused). */
  const elsewhere: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run installs it)`);
    server = await startedServer();
    const document = await (await fetch(`${server.base}/swagger/json`)).json() as { paths: Record<string, Record<string, { summary: string }>> };
    summaries = Object.values(document.paths).flatMap((item) => Object.values(item).map((op) => op.summary));
    profile = mkdtempSync(join(tmpdir(), "modsync-chromium-"));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
      viewport: { width: 1280, height: 900 },
    });
    await browser.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith(`${server.base}/`)) return route.continue();
      elsewhere.push(url);
      return route.abort("internetdisconnected");
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await cleanupProcesses();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  for (const path of ["/swagger", "/swagger/"])
    test(`${path} renders every operation from the server alone`, async () => {
      const page = await browser.newPage();
      page.on("pageerror", (err) => pageErrors.push(err.message));
      const answer = await page.goto(`${server.base}${path}`);
      expect(answer?.status()).toBe(200);
      expect(summaries.length).toBeGreaterThanOrEqual(9);
      for (const summary of summaries) await page.getByText(summary, { exact: true }).first().waitFor({ state: "attached", timeout: RENDER_MS });
      const text = await page.locator("body").innerText();
      expect(summaries.filter((s) => !text.includes(s))).toEqual([]);
      const shot = join(tmpdir(), `modsync-docs${path.replaceAll("/", "-")}.png`);
      await page.screenshot({ path: shot, fullPage: false });
      expect(statSync(shot).size).toBeGreaterThan(10_000);
      expect({ elsewhere, pageErrors }).toEqual({ elsewhere: [], pageErrors: [] });
      await page.close();
    }, 60_000);
});
