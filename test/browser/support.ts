/**
 * Headless Chromium for the browser tests: Debian's `chromium` (scripts/ensure-chromium.sh installs
 * it), driven by playwright-core, which downloads nothing. The demo is built and served locally.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

const CANDIDATES = [process.env['CHROMIUM_PATH'], '/usr/bin/chromium', '/usr/bin/chromium-browser'];

export const chromiumPath = (): string => {
  const found = CANDIDATES.find((p): p is string => p !== undefined && p !== '' && existsSync(p));
  if (found === undefined) throw new Error('Chromium is not installed: run scripts/ensure-chromium.sh (npm test runs it first), or set CHROMIUM_PATH');
  return found;
};

/** Root needs --no-sandbox; SwiftShader gives WebGL without a GPU. */
export const launch = (): Promise<Browser> =>
  chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'] });

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
