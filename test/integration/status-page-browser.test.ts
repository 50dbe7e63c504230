// The status page in headless Chromium (Debian's chromium, driven by puppeteer-core) during the demo
// story: the crash-loop incident appears on the open page through Server-Sent Events (no reload) at most
// one status update after the controller's API shows it, and disappears when it resolves; no console
// errors. NEURO_WRITE_SCREENSHOTS=1 saves the desktop and phone screenshots to docs/images/ (opt-in, so
// ordinary runs leave the tree clean).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { waitFor } from "../../testkit/wait.ts";
import { FLAVORS, ROOT } from "../support/controller.ts";
import { DemoProcess } from "../support/demo-process.ts";

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
const SCREENSHOTS = process.env.NEURO_WRITE_SCREENSHOTS === "1";
/** The crash-looping Pod of the demo story ("api: container starts crash-looping"). */
const CRASH = "CrashLoopBackOff";

let browser: Browser;
beforeAll(async () => {
  if (!CHROMIUM) throw new Error("chromium is not installed: apt-get install chromium (test/run.sh does it when root)");
  browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
});
afterAll(async () => {
  await browser?.close();
});

/** Counts the page's live updates and whether each carried the crash-loop incident (before the page's own script runs). */
const COUNT_EVENTS = `window.__statusEvents = [];
const NativeEventSource = window.EventSource;
window.EventSource = function (url, init) {
  const es = new NativeEventSource(url, init);
  es.addEventListener("status", (e) => window.__statusEvents.push(JSON.parse(e.data).html.includes("${CRASH}")));
  return es;
};`;

async function openPage(url: string, viewport: { width: number; height: number; isMobile?: boolean }, problems: string[]): Promise<Page> {
  const page = await browser.newPage();
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warn") problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e}`));
  page.on("requestfailed", (r) => {
    // Closing the page at the end aborts its open event stream: not a page problem.
    if (!r.url().endsWith("/api/v1/events")) problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  await page.setViewport({ ...viewport, deviceScaleFactor: viewport.isMobile ? 2 : 1, hasTouch: !!viewport.isMobile });
  await page.evaluateOnNewDocument(COUNT_EVENTS);
  await page.goto(url, { waitUntil: "domcontentloaded" });
  await page.evaluate(() => Object.assign(window, { __notReloaded: true }));
  return page;
}

const crashShown = (page: Page) =>
  page.evaluate((crash) => [...document.querySelectorAll("article.incident")].some((a) => a.textContent?.includes(crash)), CRASH);
const eventCount = (page: Page) => page.evaluate(() => (window as unknown as { __statusEvents: boolean[] }).__statusEvents.length);

test.each(FLAVORS)(
  "live status page in Chromium during the demo story (%s)",
  async (flavor) => {
    const problems: string[] = [];
    const demo = await DemoProcess.start(flavor, { NEURO_DEMO_STORY_SPEED: "2", WEB_UPDATE_INTERVAL: "500ms" });
    try {
      const page = await openPage(`${demo.url}/`, { width: 1280, height: 900 }, problems);
      expect(await page.$eval("h1", (h) => h.textContent)).toContain("NeuroController");
      expect(await crashShown(page)).toBe(false);
      await waitFor(() => page.evaluate(() => document.getElementById("live")?.textContent?.startsWith("Live:")), {
        timeoutMs: 10_000,
        message: "the live stream connected",
      });

      // The controller opens the incident; the open page shows it at the next live update at the latest.
      let eventsWhenOpened = 0;
      await waitFor(
        async () => {
          const before = await eventCount(page);
          const api = await (await fetch(`${demo.url}/api/v1/incidents`)).json();
          const open = api.incidents.some((i: { chain: { reason: string }[] }) => i.chain.some((l) => l.reason === CRASH));
          if (open) eventsWhenOpened = before;
          return open;
        },
        { timeoutMs: 40_000, message: () => `the crash-loop incident in /api/v1/incidents (stderr ${demo.err.slice(-1000)})` },
      );
      await waitFor(() => crashShown(page), { timeoutMs: 15_000, message: "the crash-loop incident on the page" });
      expect(await eventCount(page)).toBeLessThanOrEqual(eventsWhenOpened + 1);
      expect(await page.evaluate(() => (window as unknown as { __notReloaded?: boolean }).__notReloaded)).toBe(true);
      expect(await page.$eval("#verdict", (p) => p.textContent)).toMatch(/^(Degraded|Critical):/);

      if (SCREENSHOTS) {
        await page.screenshot({ path: join(ROOT, "docs/images/status-page-desktop.png"), fullPage: true });
        const phone = await openPage(`${demo.url}/`, { width: 390, height: 844, isMobile: true }, problems);
        await waitFor(() => crashShown(phone), { timeoutMs: 10_000, message: "the incident on the phone page" });
        await phone.screenshot({ path: join(ROOT, "docs/images/status-page-phone.png"), fullPage: true });
        await phone.close();
      }

      // The story heals the Pod; the incident resolves and leaves the page, still without a reload.
      await waitFor(() => crashShown(page).then((shown) => !shown), { timeoutMs: 90_000, message: "the crash-loop incident resolved on the page" });
      expect(await page.evaluate(() => (window as unknown as { __notReloaded?: boolean }).__notReloaded)).toBe(true);
      expect(await page.evaluate(() => (window as unknown as { __statusEvents: boolean[] }).__statusEvents.some((x) => x))).toBe(true);
      await page.close();
      expect(problems).toEqual([]);
    } finally {
      await demo.stop();
    }
  },
  150_000,
);
