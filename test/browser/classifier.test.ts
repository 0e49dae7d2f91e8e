/**
 * Names out, in a real browser: a classifier trained in headless Chromium from canvases labelled by
 * name, saved to IndexedDB through the `indexeddb://` URL, loaded back by loadClassifier with its
 * class names and input spec, and asked about a new canvas; nothing leaked.
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

describe('an image classifier in headless Chromium', () => {
  it('trains from named canvases, saves to IndexedDB with its names and input, loads back and answers by name', { timeout: 120_000 }, async () => {
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
