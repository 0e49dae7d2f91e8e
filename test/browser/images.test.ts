/**
 * Images in, names out, in a real browser (headless Chromium): every browser image source
 * imageBatch takes (HTMLCanvasElement, ImageData, HTMLImageElement, ImageBitmap, OffscreenCanvas,
 * HTMLVideoElement) read into a batch with its pixels where the source drew them; and a classifier
 * trained from canvases labelled by name, saved to IndexedDB through `indexeddb://`, loaded back by
 * loadClassifier with its class names and input spec, answering a new canvas by name. Nothing
 * leaks in either page.
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

describe('images in, names out, in headless Chromium', () => {
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

  it('trains a classifier from named canvases, saves it to IndexedDB with its names and input, loads it back, and it answers by name', { timeout: 120_000 }, async () => {
    const { text, errors } = await runPage(browser, 'classifier.js', 90_000);
    expect(text.startsWith('failed'), text).toBe(false);
    const found = JSON.parse(text);
    expect(found.classNames).toEqual(['red', 'green', 'blue']);
    expect(found.inputSpec).toEqual({ height: 8, width: 8, channels: 3, channelOrder: 'rgb', normalization: { range: [-1, 1] } });
    expect(found.answer).toHaveLength(1);
    expect(found.answer[0].label).toBe('green');
    expect(found.leaked).toBe(0);
    expect(errors).toEqual([]);
  });
});
