/**
 * The calibration grid's target domains (issue #16), each a task over digits 5–9 (which no source
 * saw) and a fixed function of the image. Training images come from [0, 600) of each digit, the
 * held-out test set from [760, 860) (100 per digit); labels are the classes' positions.
 *
 * | domain | classes | images | kind of shift from the sources' digits 0–4 |
 * |---|---|---|---|
 * | `digits` | 5, 6, 7, 8, 9 | as they are | task: other digits |
 * | `inverted` | 5, 6, 7, 8, 9 | 1 − x | pixel-level covariate |
 * | `permuted` | 5, 6, 7, 8, 9 | one fixed pixel permutation | pixel-level, structure destroyed |
 * | `noisy` | 5, 6, 7, 8, 9 | Gaussian noise of σ 0.5, clipped | pixel-level covariate |
 * | `rotated` | 5, 6, 7, 8, 9 | turned 90° | geometric covariate |
 * | `parity` | odd (5, 7, 9), even (6, 8) | as they are | task: another grouping |
 * | `trio-thick` | 7, 8, 9 | strokes dilated 3 × 3 | task (another subset) and covariate |
 * | `parity-rotated` | odd, even | turned 90° | task (grouping) and geometric covariate |
 *
 * Every source's own label set differs (sources.ts): `residual` saw digits turned 90° and
 * `mobilenet` saw them inverted, so the same domain is a different shift for each source.
 */
import { createRequire } from 'node:module';
import { shift } from '../adapt/shifts';
import { PIXELS, transform } from '../mnist/data';
import type { Digits } from '../mnist/fitSource';

const mnist = createRequire(import.meta.url)('mnist') as Record<string, { length: number; get: (i: number) => number[] }>;

export type GridDomainName = 'digits' | 'inverted' | 'permuted' | 'noisy' | 'rotated' | 'parity' | 'trio-thick' | 'parity-rotated';
export type ShiftKind = 'task' | 'pixel' | 'geometric' | 'task+covariate';

export interface GridDomain {
  readonly name: GridDomainName;
  /** Each class's digits. */
  readonly classes: ReadonlyArray<ReadonlyArray<number>>;
  readonly kind: ShiftKind;
  /** One image into the domain; `key` seeds its noise. */
  readonly image: (pixels: ArrayLike<number>, key: number) => Float32Array;
}

const FIVE = [[5], [6], [7], [8], [9]] as const;
const PARITY = [[5, 7, 9], [6, 8]] as const;
const same = (pixels: ArrayLike<number>): Float32Array => Float32Array.from(pixels);

export const GRID_DOMAINS: ReadonlyArray<GridDomain> = [
  { name: 'digits', classes: FIVE, kind: 'task', image: same },
  { name: 'inverted', classes: FIVE, kind: 'pixel', image: (p) => transform('inverted', p) },
  { name: 'permuted', classes: FIVE, kind: 'pixel', image: (p) => transform('permuted', p) },
  { name: 'noisy', classes: FIVE, kind: 'pixel', image: (p, key) => shift('noise', p, key) },
  { name: 'rotated', classes: FIVE, kind: 'geometric', image: (p) => transform('rotated', p) },
  { name: 'parity', classes: PARITY, kind: 'task', image: same },
  { name: 'trio-thick', classes: [[7], [8], [9]], kind: 'task+covariate', image: (p, key) => shift('thick', p, key) },
  { name: 'parity-rotated', classes: PARITY, kind: 'task+covariate', image: (p) => transform('rotated', p) },
];

export const gridDomain = (name: GridDomainName): GridDomain => GRID_DOMAINS.find((d) => d.name === name)!;

/** Per digit: the training range's end and the test range. */
export const TARGET_RANGES = { trainEnd: 600, test: [760, 860] } as const;

/** How many of a class's `perClass` images each of its digits gives: as even as can be, the first digits one more. */
const shares = (perClass: number, digits: number): number[] =>
  Array.from({ length: digits }, (_, j) => Math.floor(perClass / digits) + (j < perClass % digits ? 1 : 0));

/**
 * `perClass` images of each class of `domain`, digit d's share read from index `offset(share)` on,
 * interleaved by class so that any prefix is balanced.
 */
const collect = (domain: GridDomain, perClass: number, offset: (share: number) => number): Digits => {
  const picks: Array<{ digit: number; index: number; label: number }>[] = domain.classes.map((digits, label) =>
    digits.flatMap((digit, j) => {
      const share = shares(perClass, digits.length)[j]!;
      const from = offset(share);
      if (from + share > mnist[String(digit)]!.length) throw new Error(`digit ${digit} has ${mnist[String(digit)]!.length} images; asked for [${from}, ${from + share})`);
      return Array.from({ length: share }, (_, i) => ({ digit, index: from + i, label }));
    }),
  );
  const count = perClass * domain.classes.length;
  const x = new Float32Array(count * PIXELS);
  const y = new Int32Array(count);
  let row = 0;
  for (let i = 0; i < perClass; i++) {
    for (const list of picks) {
      const { digit, index, label } = list[i]!;
      x.set(domain.image(mnist[String(digit)]!.get(index), 7919 * index + digit), row * PIXELS);
      y[row++] = label;
    }
  }
  return { x, y, count };
};

/**
 * A cell's labelled training images: `perClass` per class. Each seed takes its own slice of every
 * digit's training range while the slices fit side by side; otherwise the slice starts at 0 and the
 * seed varies only the training's randomness (at 600 per class every seed reads the same images).
 */
export const trainingSet = (domain: GridDomain, perClass: number, seed: number): Digits =>
  collect(domain, perClass, (share) => ((seed + 1) * share <= TARGET_RANGES.trainEnd ? seed * share : 0));

/** The held-out test images: [760, 860) of every digit of the domain. */
export const testSet = (domain: GridDomain): Digits => {
  const digits = domain.classes.flat();
  const perDigit = TARGET_RANGES.test[1] - TARGET_RANGES.test[0];
  const count = digits.length * perDigit;
  const x = new Float32Array(count * PIXELS);
  const y = new Int32Array(count);
  let row = 0;
  for (let i = TARGET_RANGES.test[0]; i < TARGET_RANGES.test[1]; i++) {
    domain.classes.forEach((group, label) => {
      for (const digit of group) {
        x.set(domain.image(mnist[String(digit)]!.get(i), 7919 * i + digit), row * PIXELS);
        y[row++] = label;
      }
    });
  }
  return { x, y, count };
};

/** Unlabelled target images for the similarity measure: 60 of each digit from [600, 660), outside both sets. */
export const similaritySample = (domain: GridDomain): Digits => collect({ ...domain, classes: domain.classes.flat().map((d) => [d]) }, 60, () => TARGET_RANGES.trainEnd);
