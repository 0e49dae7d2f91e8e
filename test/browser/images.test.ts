/**
 * Images in, in a real browser: every browser image source imageBatch takes (HTMLCanvasElement,
 * ImageData, HTMLImageElement, ImageBitmap, OffscreenCanvas, HTMLVideoElement) read into a batch in
 * headless Chromium, with its pixels where the source drew them, and nothing leaked.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, runPage } from './support';

let browser: Browser;

beforeAll(async () => {
  browser = await launch();
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

describe('imageBatch in headless Chromium', () => {
  it('reads every browser image source, pixels where they were drawn, and leaks nothing', { timeout: 120_000 }, async () => {
    const { text, errors } = await runPage(browser, 'images.js', 60_000);
    expect(text.startsWith('failed'), text).toBe(false);
    const found = JSON.parse(text);
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
});
