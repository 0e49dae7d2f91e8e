/** What the browser tests share: the browser, a screenshot when a test fails, and the page's errors. */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { serveDirectory } from '../../scripts/browser/serve';

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

/**
 * Bundles a page script of test/browser/apps/ (transferkit/tfjs from its sources) beside the
 * apps' index.html, opens it in `browser`, waits for the page to write into #out, and returns
 * that text with the page's errors. The page and its server are closed; on a failure, a screenshot
 * is left in test-artifacts/.
 */
export const runPage = async (browser: Browser, script: string, timeoutMs: number): Promise<{ text: string; errors: string[] }> => {
  const { build } = await import('esbuild');
  const apps = fileURLToPath(new URL('./apps/', import.meta.url));
  const out = mkdtempSync(join(tmpdir(), 'transferkit-page-'));
  try {
    await build({
      entryPoints: [join(apps, script)],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      outfile: join(out, 'main.js'),
      alias: { 'transferkit/tfjs': resolve('src/backends/tfjs/index.ts') },
      logLevel: 'silent',
    });
    copyFileSync(join(apps, 'index.html'), join(out, 'index.html'));
    const served = await serveDirectory(out);
    const page = await browser.newPage();
    const errors = collectErrors(page);
    try {
      let text = '';
      await screenshotOnFailure(page, script.replace(/\.js$/, ''), async () => {
        await page.goto(served.url);
        await page.waitForFunction(`document.getElementById('out').textContent !== 'starting'`, undefined, { timeout: timeoutMs });
        text = (await page.textContent('#out')) ?? '';
      });
      return { text, errors };
    } finally {
      await page.close();
      await served.close();
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
};
