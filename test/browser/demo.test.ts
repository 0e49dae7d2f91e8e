/**
 * The browser demo (examples/browser/), built as an app would build it and driven in real headless
 * Chromium: examples in, training, held-out accuracy, a drawing classified, saved to IndexedDB and
 * reloaded, every tensor accounted for, and no console error on the way.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBrowserDemo } from '../../scripts/browser/build';
import { serveDirectory, type Served } from '../../scripts/browser/serve';
import { collectErrors, launch, screenshotOnFailure } from './support';

let browser: Browser;
let plain: Served;
let isolated: Served;

beforeAll(async () => {
  const out = await buildBrowserDemo();
  [plain, isolated, browser] = await Promise.all([serveDirectory(out), serveDirectory(out, { isolated: true }), launch()]);
});

afterAll(async () => {
  await browser?.close();
  await plain?.close();
  await isolated?.close();
});

/** What the page exposes for tests (examples/browser/main.ts): tensors held now and once the source was loaded, and the time to the first head. */
type Hooks = { tensorsNow: number; tensorsAtStart: number; firstHeadMs: number };
const hooks = (page: Page): Promise<Hooks> =>
  page.evaluate('({ tensorsNow: window.transferkitDemo.tensors(), tensorsAtStart: window.transferkitDemo.tensorsAtStart, firstHeadMs: window.transferkitDemo.firstHeadMs })');

/** Page-side: the text of the element with this test id. */
const textOf = (testId: string): string => `document.querySelector('[data-testid="${testId}"]')?.textContent`;

const open = async (page: Page, url: string): Promise<void> => {
  await page.goto(url);
  // Page-side code is given as text: this file is type-checked without the DOM library.
  await page.waitForFunction(`window.transferkitDemo?.ready === true || ${textOf('backend')} === 'failed'`);
};

/** Draws a 7 on the pad: a bar across the top, then a stroke down to the lower left. */
const drawSeven = async (page: Page): Promise<void> => {
  const pad = page.locator('[data-testid="pad"]');
  await pad.scrollIntoViewIfNeeded();
  const box = (await pad.boundingBox())!;
  const at = (x: number, y: number) => [box.x + x * box.width, box.y + y * box.height] as const;
  await page.mouse.move(...at(0.28, 0.22));
  await page.mouse.down();
  for (const [x, y] of [[0.5, 0.22], [0.72, 0.22], [0.62, 0.5], [0.52, 0.8]] as const) await page.mouse.move(...at(x, y), { steps: 6 });
  await page.mouse.up();
};

const percent = async (page: Page, testId: string): Promise<number> => Number.parseFloat((await page.textContent(`[data-testid="${testId}"]`))!);

describe('the browser demo in headless Chromium', () => {
  it('trains on wasm from examples and a drawing, beats chance, classifies a drawing, saves, reloads and frees every tensor', { timeout: 240_000 }, async () => {
    const page = await browser.newPage();
    const errors = collectErrors(page);
    await screenshotOnFailure(page, 'browser-demo-wasm', async () => {
      // No time budget: the same seed then trains the same models on any machine, so the drawn 7 is read the same way.
      await open(page, `${plain.url}?backend=wasm&budget=none`);
      expect(await page.textContent('[data-testid="backend"]')).toBe('wasm');
      expect(await page.textContent('[data-testid="backend-detail"]')).toContain('SIMD on, threads off');
      const start = (await hooks(page)).tensorsAtStart;
      expect(start).toBeGreaterThan(0); // the source model's weights

      for (const k of [0, 1, 2]) await page.click(`[data-testid="add-examples-${k}"]`);
      await drawSeven(page);
      await page.click('[data-testid="add-drawing-2"]');
      expect(await page.locator('[data-testid="class-2"] .thumbs canvas').count()).toBe(11);

      await page.click('[data-testid="train"]');
      await page.waitForFunction(`/done in|failed/.test(${textOf('status')})`, undefined, { timeout: 200_000 });
      expect(await page.textContent('[data-testid="status"]')).toMatch(/^done in/);
      const pick = (await page.textContent('[data-testid="pick"] strong'))!;
      // Held-out MNIST digits of the three classes; chance is 33 %.
      expect(await percent(page, 'accuracy-feature-extractor')).toBeGreaterThan(60);
      expect(await percent(page, `accuracy-${pick}`)).toBeGreaterThan(60);
      expect(await percent(page, 'accuracy-from-scratch')).toBeGreaterThan(40);
      expect((await hooks(page)).firstHeadMs).toBeGreaterThan(0);

      await drawSeven(page);
      await page.waitForSelector('[data-testid="predicted"]');
      expect(await page.textContent('[data-testid="predicted"]')).toBe('7');

      await page.click('[data-testid="save"]');
      await page.waitForFunction(`/saved to|not saved/.test(${textOf('saved')})`);
      expect(await page.textContent('[data-testid="saved"]')).toMatch(/^saved to indexeddb:\/\/transferkit-demo/);
      await page.click('[data-testid="reload"]');
      await page.waitForSelector('[data-testid="reload-agreement"]');
      expect(await page.textContent('[data-testid="reload-agreement"]')).toBe('180/180');

      // The trained models (the head, the pick and the baseline) hold tensors until they are forgotten.
      expect((await hooks(page)).tensorsNow).toBeGreaterThan(start);
      await page.click('[data-testid="reset"]');
      expect((await hooks(page)).tensorsNow).toBe(start);
      expect(errors).toEqual([]);
    });
    await page.close();
  });

  it('starts on webgl, and on wasm with threads when the page is cross-origin isolated', { timeout: 120_000 }, async () => {
    const page = await browser.newPage();
    const errors = collectErrors(page);
    await screenshotOnFailure(page, 'browser-demo-backends', async () => {
      await open(page, `${plain.url}?backend=webgl`);
      expect(await page.textContent('[data-testid="backend"]')).toBe('webgl');
      await open(page, `${isolated.url}?backend=wasm`);
      expect(await page.textContent('[data-testid="backend"]')).toBe('wasm');
      expect(await page.textContent('[data-testid="backend-detail"]')).toContain('SIMD on, threads on');
      expect(errors).toEqual([]);
    });
    await page.close();
  });
});
