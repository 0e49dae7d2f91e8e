/**
 * Names out, in a real browser: a classifier trained in headless Chromium from canvases labelled by
 * name, saved to IndexedDB through the `indexeddb://` URL, loaded back by loadClassifier with its
 * class names and input spec, and asked about a new canvas; nothing leaked.
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
const out = mkdtempSync(join(tmpdir(), 'transferkit-classifier-page-'));
let browser: Browser;

beforeAll(async () => {
  const { build } = await import('esbuild');
  await build({
    entryPoints: [join(apps, 'classifier.js')],
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

describe('an image classifier in headless Chromium', () => {
  it('trains from named canvases, saves to IndexedDB with its names and input, loads back and answers by name', { timeout: 120_000 }, async () => {
    const served = await serveDirectory(out);
    const page = await browser.newPage();
    const errors = collectErrors(page);
    try {
      await screenshotOnFailure(page, 'classifier', async () => {
        await page.goto(served.url);
        await page.waitForFunction(`document.getElementById('out').textContent !== 'starting'`, undefined, { timeout: 90_000 });
        const text = (await page.textContent('#out'))!;
        expect(text.startsWith('failed'), text).toBe(false);
        const found = JSON.parse(text);
        expect(found.classNames).toEqual(['red', 'green', 'blue']);
        expect(found.inputSpec).toEqual({ height: 8, width: 8, channels: 3, channelOrder: 'rgb', normalization: { range: [-1, 1] } });
        expect(found.answer).toHaveLength(1);
        expect(found.answer[0].label).toBe('green');
        expect(found.leaked).toBe(0);
        expect(errors).toEqual([]);
      });
    } finally {
      await page.close();
      await served.close();
    }
  });
});
