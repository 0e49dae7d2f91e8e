import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { readImage, readImages } from 'transferkit/node';
import { err, ok } from '../fixtures/either';

const dir = mkdtempSync(join(tmpdir(), 'transferkit-images-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A 5×3 RGBA gradient. */
const pixels = Uint8Array.from({ length: 5 * 3 * 4 }, (_, i) => (i % 4 === 3 ? 255 : (i * 17) % 256));

const png = (): Buffer => {
  const image = new PNG({ width: 5, height: 3 });
  image.data.set(pixels);
  return PNG.sync.write(image);
};

describe('readImage', () => {
  it('decodes a PNG file to its exact RGBA pixels, told by its bytes, not its name', async () => {
    const path = join(dir, 'gradient.jpg');
    writeFileSync(path, png());
    const image = ok(await readImage(path)());
    expect([image.width, image.height, image.channels]).toEqual([5, 3, 4]);
    expect(Array.from(image.data)).toEqual(Array.from(pixels));
  });

  it('decodes a JPEG (lossy: close to the pixels it encoded)', async () => {
    const flat = Uint8Array.from({ length: 16 * 16 * 4 }, (_, i) => (i % 4 === 3 ? 255 : [200, 100, 50][i % 4]!));
    const encoded = jpeg.encode({ width: 16, height: 16, data: flat }, 95).data;
    const image = ok(await readImage(new Uint8Array(encoded))());
    expect([image.width, image.height]).toEqual([16, 16]);
    expect(Math.max(...Array.from(image.data.subarray(0, 3), (v, c) => Math.abs(v - [200, 100, 50][c]!)))).toBeLessThanOrEqual(3);
  });

  it('refuses what is not a readable PNG or JPEG, and images past the pixel limit, before decoding them', async () => {
    expect(err(await readImage(new Uint8Array([1, 2, 3, 4]))()).received).toBe('bytes that start 01 02 03 04');
    expect(err(await readImage(join(dir, 'missing.png'))()).expected).toBe('a file this process can read');
    expect(err(await readImage(png().subarray(0, 40))()).expected).toBe('a PNG image that decodes');
    const big = err(await readImage(png(), { maxPixels: 10 })());
    expect(big.received).toBe('a PNG of 5×3');
    // A PNG header that declares 100,000² pixels is refused from its header.
    const header = png();
    header.writeUInt32BE(100_000, 16);
    header.writeUInt32BE(100_000, 20);
    expect(err(await readImage(header)()).expected).toMatch(/at most 50000000 pixels/);
    expect(err(await readImage(7 as never)()).path).toBe('source');
    expect(err(await readImages([png(), new Uint8Array(4)])()).path).toBe('sources[1]');
    expect(ok(await readImages([png(), png()])())).toHaveLength(2);
  });
});
