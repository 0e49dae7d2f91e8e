/**
 * The scene of examples/image-classifier.ts, set on disk as a user would have it: a pretrained
 * model saved in a directory (the Keras MobileNetV2 that the `nsfwjs` npm package ships, MIT
 * licence, written out as model.json + weights.bin), and photos as PNG files in one folder per
 * class (MNIST digits 5, 6 and 7, 20 of each, plus one held-out 6 as `new.png`). Nothing is
 * downloaded.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { fileHandler } from 'transferkit/node';
import { PIXELS, SIDE, take } from '../../scripts/mnist/data';
import { loadMobileNetV2 } from '../../scripts/pretrained/model';

/** A grey digit in [0, 1] as a PNG file. */
const writeDigit = (path: string, pixels: Float32Array): void => {
  const png = new PNG({ width: SIDE, height: SIDE });
  for (let i = 0; i < PIXELS; i++) png.data.set([255 * pixels[i]!, 255 * pixels[i]!, 255 * pixels[i]!, 255], 4 * i);
  writeFileSync(path, PNG.sync.write(png));
};

/** Makes the scene in a fresh temporary directory and returns it. */
export const setScene = async (): Promise<string> => {
  const dir = mkdtempSync(join(tmpdir(), 'transferkit-story-'));
  const model = await loadMobileNetV2();
  await model.save(fileHandler(join(dir, 'mobilenet')));
  model.dispose();
  const names = ['five', 'six', 'seven'];
  const train = take([5, 6, 7], 0, 20);
  names.forEach((name) => mkdirSync(join(dir, 'photos', name), { recursive: true }));
  for (let row = 0; row < train.count; row++) {
    writeDigit(join(dir, 'photos', names[train.y[row]!]!, `${Math.floor(row / 3)}.png`), train.x.subarray(row * PIXELS, (row + 1) * PIXELS));
  }
  writeDigit(join(dir, 'photos', 'new.png'), take([6], 700, 1).x);
  return dir;
};
