/**
 * Debian's chromium, driven by playwright-core, for the dashboard tests: a fresh profile folder per
 * test, and one cleanup hook that closes the browser before removing the profile (chromium writes
 * to it until it has closed; a removal racing those writes fails with ENOTEMPTY). Page errors are
 * collected so a test can assert there were none.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { chromium, type Page } from 'playwright-core';

/** Where Debian installs chromium (scripts/test-data.sh installs it when missing). */
export const CHROMIUM = '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** A page in a new headless browser, closed with the test; `failures` gathers uncaught page errors. */
export async function openBrowserPage(
  t: TestContext,
  viewport: { width: number; height: number } = { width: 1200, height: 800 },
): Promise<{ page: Page; failures: string[] }> {
  const profile = await mkdtemp(join(tmpdir(), 'stratum-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: ARGS,
    headless: true,
    viewport,
  });
  // One hook, in order: after hooks run first-registered first.
  t.after(async () => {
    await browser.close();
    await rm(profile, { recursive: true, force: true, maxRetries: 5 });
  });
  const page = browser.pages()[0] ?? (await browser.newPage());
  const failures: string[] = [];
  page.on('pageerror', (error) => failures.push(error.message));
  return { page, failures };
}
