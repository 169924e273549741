// A real browser for tests: Debian's Chromium (/usr/bin/chromium) driven by playwright-core,
// headless, never a downloaded browser. Screenshots go to test-results/ at the repository root.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { Test } from 'tap';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env['ESEAL_CHROMIUM'] ?? '/usr/bin/chromium';
export const RESULTS_DIR = fileURLToPath(new URL('../../test-results/', import.meta.url));

/** Why browser tests cannot run here, or undefined when they can. */
export function browserMissing(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set ESEAL_CHROMIUM)`;
}

/** Headless Chromium, closed with the test. */
export async function launchBrowser(t: Test): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // as root in a container: no sandbox; no GPU on a server
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    timeout: 60_000,
  });
  t.teardown(() => browser.close());
  return browser;
}

/** A full-page screenshot at test-results/<name>.png; its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** A page that records what a walk must not meet: script errors and CSP violations, and refused requests. */
export interface WatchedPage {
  page: Page;
  /** uncaught exceptions and console errors (the browser's own "Failed to load resource" lines are in `refused`) */
  errors: string[];
  /** `<status> <path>` of every answer ≥ 400 */
  refused: string[];
}

export async function watchedPage(browser: Browser, options: Parameters<Browser['newPage']>[0] = {}, timeoutMs = 15_000): Promise<WatchedPage> {
  const page = await browser.newPage(options);
  page.setDefaultTimeout(timeoutMs);
  const errors: string[] = [];
  const refused: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
  });
  page.on('response', (r) => {
    if (r.status() >= 400) refused.push(`${r.status()} ${new URL(r.url()).pathname}`);
  });
  return { page, errors, refused };
}

/** Logs in on the console's login page the browser is on, and waits to land on `landing`. */
export async function logIn(page: Page, name: string, password: string, landing: RegExp): Promise<void> {
  await page.fill('#name', name);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL(landing), page.click('button[type=submit]')]);
}
