/** What the browser tests share: the browser, a screenshot when a test fails, and the page's errors. */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';

export { launchChromium as launch } from '../../scripts/browser/chromium';

/** Where a failing browser test leaves its screenshot (CI keeps test-artifacts/). */
export const ARTIFACTS = resolve('test-artifacts');

export const screenshotOnFailure = async (page: Page, name: string, run: () => Promise<void>): Promise<void> => {
  try {
    await run();
  } catch (thrown) {
    mkdirSync(ARTIFACTS, { recursive: true });
    const path = resolve(ARTIFACTS, `${name}.png`);
    await page.screenshot({ path, fullPage: true }).catch(() => undefined);
    throw new Error(`${(thrown as Error).message}\n(screenshot: ${path})`, { cause: thrown });
  }
};

/** Console errors and uncaught exceptions of a page, collected as they happen. */
export const collectErrors = (page: Page): string[] => {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console.error: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
  return errors;
};
