import { existsSync } from "node:fs";
import type { Page } from "playwright-core";

/** Debian's chromium (never a downloaded browser), driven by playwright-core; .ci/run installs it. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const haveChromium = existsSync(CHROMIUM);
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * Opens the dashboard without a session, lands on the login page, types `key` and submits: the browser
 * is sent back to the dashboard with the `tp_admin` session cookie.
 */
export async function loginThroughPage(page: Page, baseUrl: string, key: string): Promise<void> {
  await page.goto(`${baseUrl}/dashboard/`);
  await page.waitForURL(`${baseUrl}/admin/login?next=%2Fdashboard%2F`);
  await page.fill("input[name=key]", key);
  await Promise.all([page.waitForURL(`${baseUrl}/dashboard/`), page.click("button[type=submit]")]);
}
