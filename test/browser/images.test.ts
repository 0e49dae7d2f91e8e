/**
 * Images in, in a real browser: every browser image source imageBatch takes (HTMLCanvasElement,
 * ImageData, HTMLImageElement, ImageBitmap, OffscreenCanvas, HTMLVideoElement) read into a batch in
 * headless Chromium, with its pixels where the source drew them, and nothing leaked.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveDirectory } from '../../scripts/browser/serve';
import { collectErrors, launch, screenshotOnFailure } from './support';

const apps = fileURLToPath(new URL('./apps/', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'transferkit-images-page-'));
let browser: Browser;

beforeAll(async () => {
  const { build } = await import('esbuild');
  await build({
    entryPoints: [join(apps, 'images.js')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    outfile: join(out, 'main.js'),
    alias: { 'transferkit/tfjs': resolve('src/backends/tfjs/index.ts') },
    logLevel: 'silent',
  });
  copyFileSync(join(apps, 'index.html'), join(out, 'index.html'));
  browser = await launch();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  rmSync(out, { recursive: true, force: true });
});

describe('imageBatch in headless Chromium', () => {
  it('reads every browser image source, pixels where they were drawn, and leaks nothing', { timeout: 120_000 }, async () => {
    const served = await serveDirectory(out);
    const page = await browser.newPage();
    const errors = collectErrors(page);
    try {
      await screenshotOnFailure(page, 'images', async () => {
        await page.goto(served.url);
        await page.waitForFunction(`document.getElementById('out').textContent !== 'starting'`, undefined, { timeout: 60_000 });
        const text = (await page.textContent('#out'))!;
        const found = JSON.parse(text.startsWith('failed') ? JSON.stringify({ failed: text }) : text);
        expect(found.failed).toBeUndefined();
        const colours: Record<string, number[]> = {
          HTMLCanvasElement: [255, 0, 51],
          ImageData: [255, 0, 51],
          HTMLImageElement: [0, 255, 0],
          ImageBitmap: [255, 0, 51],
          OffscreenCanvas: [0, 0, 255],
        };
        for (const [name, rgb] of Object.entries(colours)) expect(found[name], name).toEqual({ shape: [1, 4, 4, 3], first: rgb });
        // A video frame of a white canvas (its encoding may move a value by a little).
        expect(found.HTMLVideoElement.shape).toEqual([1, 4, 4, 3]);
        expect(Math.min(...found.HTMLVideoElement.first)).toBeGreaterThan(230);
        // A canvas of 300×150 (the default) is not the spec's 4×4, and resize was not asked for.
        expect(found.biggerCanvas).toEqual({ error: 'ShapeMismatch', message: expect.stringContaining('received 300×150') });
        expect(found.leaked).toBe(0);
        expect(errors).toEqual([]);
      });
    } finally {
      await page.close();
      await served.close();
    }
  });
});
