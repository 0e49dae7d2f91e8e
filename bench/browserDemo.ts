/**
 * Time to a trained head in the browser: the demo page (examples/browser/) in headless Chromium,
 * 3 classes × 10 MNIST examples, from the Train click to the first head's held-out accuracy, on
 * webgl (SwiftShader: no GPU here), wasm and cpu, side by side in one run; then the whole
 * comparison (the selector's pick and from scratch). Each phase has the demo's time budget
 * (`maxPhaseMs` 3 s). Goal: the first head within 5 s on webgl and on wasm.
 * Run: npm run bench -- browser
 */
import type { Page } from 'playwright-core';
import { buildBrowserDemo } from '../scripts/browser/build';
import { launchChromium } from '../scripts/browser/chromium';
import { serveDirectory } from '../scripts/browser/serve';

const GOAL_MS = 5000;

const measure = async (page: Page, url: string): Promise<{ firstHeadMs: number; totalMs: number; log: string }> => {
  await page.goto(url);
  await page.waitForFunction('window.transferkitDemo?.ready === true', undefined, { timeout: 120_000 });
  for (const k of [0, 1, 2]) await page.click(`[data-testid="add-examples-${k}"]`);
  const started = Date.now();
  await page.click('[data-testid="train"]');
  await page.waitForFunction(`/done in|failed/.test(document.querySelector('[data-testid="status"]').textContent)`, undefined, { timeout: 600_000 });
  const totalMs = Date.now() - started;
  const firstHeadMs = (await page.evaluate('window.transferkitDemo.firstHeadMs')) as number;
  return { firstHeadMs, totalMs, log: (await page.textContent('[data-testid="log"]')) ?? '' };
};

export const run = async (): Promise<void> => {
  const served = await serveDirectory(await buildBrowserDemo());
  const browser = await launchChromium();
  try {
    console.log('Browser demo: 3 classes × 10 examples, time from Train to the first trained head (goal ≤ 5 s), headless Chromium');
    for (const backend of ['webgl', 'wasm', 'cpu']) {
      const page = await browser.newPage();
      const m = await measure(page, `${served.url}?backend=${backend}`);
      await page.close();
      const runs = m.log.split('\n').filter((l) => /held-out accuracy/.test(l) && !l.startsWith('first'));
      console.log(`  ${backend.padEnd(6)} first head ${(m.firstHeadMs / 1000).toFixed(1)} s (${(m.firstHeadMs / GOAL_MS).toFixed(2)}× the goal); all three runs ${(m.totalMs / 1000).toFixed(1)} s`);
      for (const r of runs) console.log(`         ${r}`);
    }
  } finally {
    await browser.close();
    await served.close();
  }
};
