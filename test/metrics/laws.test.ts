/** The metrics' laws, and a Left for every degenerate input. */
import type { either as E } from 'fp-ts';
import { describe, expect, it } from 'vitest';
import { coral, hScore, leep, logme, logmeRegression, mmd, nce, proxyADistance, type Matrix, type TransferError } from 'transferkit';
import { seededRandom } from '../../src/core/random';
import { err, ok } from '../fixtures/either';

const gaussian = (random: () => number): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
/** n × d standard normal samples shifted by `shift`, seeded. */
const sample = (n: number, d: number, seed: number, shift = 0): Matrix => {
  const random = seededRandom(seed);
  return { rows: n, cols: d, data: Float32Array.from({ length: n * d }, () => gaussian(random) + shift) };
};
/** Features that carry labels: class centres plus noise; or pure noise when signal is 0. */
const labelled = (n: number, d: number, k: number, signal: number, seed: number): { f: Matrix; y: number[] } => {
  const random = seededRandom(seed);
  const centres = Array.from({ length: k * d }, () => gaussian(random));
  const y = Array.from({ length: n }, (_, i) => i % k);
  const data = Float32Array.from({ length: n * d }, (_, i) => signal * centres[y[Math.floor(i / d)]! * d + (i % d)]! + gaussian(random));
  return { f: { rows: n, cols: d, data }, y };
};
const relabel = (y: number[], map: number[]): number[] => y.map((c) => map[c]!);

describe('MMD', () => {
  const x = sample(40, 3, 1);
  it('MMD(X, X) is about 0 (the unbiased estimate is −2/m·(1 − mean kernel) exactly)', () => {
    expect(Math.abs(ok(mmd(x, x, { permutations: 0 })).value)).toBeLessThanOrEqual(2 / 40);
  });
  it('is symmetric', () => {
    const y = sample(30, 3, 2, 0.7);
    expect(ok(mmd(x, y, { permutations: 0 })).value).toBeCloseTo(ok(mmd(y, x, { permutations: 0 })).value, 12);
  });
  it('its permutation test finds a shift; without one it rejects at about its level; one seed, one p-value', () => {
    const shifted = ok(mmd(x, sample(40, 3, 4, 1), { permutations: 200, seed: 1 }));
    expect(shifted.pValue!).toBeLessThan(0.01);
    // 20 independent pairs from one distribution: a level-0.05 test should reject about 1 of them
    // (4 or more has probability 1.6 % under a calibrated test).
    const rejections = Array.from({ length: 20 }, (_, i) => ok(mmd(sample(30, 3, 100 + i), sample(30, 3, 200 + i), { permutations: 100, seed: i })).pValue!).filter((p) => p < 0.05);
    expect(rejections.length).toBeLessThanOrEqual(3);
    expect(ok(mmd(x, sample(40, 3, 3), { permutations: 50, seed: 1 })).pValue).toBe(ok(mmd(x, sample(40, 3, 3), { permutations: 50, seed: 1 })).pValue);
  });
});

describe('CORAL and proxy A-distance', () => {
  const x = sample(60, 4, 5);
  it('CORAL scales as its TSDoc example says: covariances 1 and 4 everywhere in 2-d give 36 / 16', () => {
    const a: Matrix = { rows: 3, cols: 2, data: new Float32Array([0, 0, 1, 1, 2, 2]) };
    const b: Matrix = { rows: 3, cols: 2, data: new Float32Array([0, 0, 2, 2, 4, 4]) };
    expect(ok(coral(a, b)).value).toBeCloseTo(2.25, 12);
  });

  it('CORAL(X, X) = 0 and CORAL is symmetric', () => {
    expect(ok(coral(x, x)).value).toBe(0);
    const y = sample(50, 4, 6);
    expect(ok(coral(x, y)).value).toBeCloseTo(ok(coral(y, x)).value, 12);
  });
  it('PAD is near 0 for two samples of one distribution and 2 for separable ones', () => {
    expect(ok(proxyADistance(x, sample(60, 4, 7))).value).toBeLessThan(0.7);
    expect(ok(proxyADistance(x, sample(60, 4, 8, 6))).value).toBe(2);
  });
});

describe('transferability scores', () => {
  const informative = labelled(60, 8, 3, 2, 9);
  const noise = labelled(60, 8, 3, 0, 10);
  const permuted = [2, 0, 1];

  it('LogME is higher when the features carry the labels, and blind to class ids', () => {
    expect(ok(logme(informative.f, informative.y)).value).toBeGreaterThan(ok(logme(noise.f, noise.y)).value);
    expect(ok(logme(informative.f, relabel(informative.y, permuted))).value).toBeCloseTo(ok(logme(informative.f, informative.y)).value, 10);
  });

  it('LogME for regression prefers features that explain the targets', () => {
    const targets: Matrix = { rows: 60, cols: 1, data: Float32Array.from({ length: 60 }, (_, i) => informative.f.data[i * 8]! * 2 + informative.f.data[i * 8 + 1]!) };
    const unrelated = sample(60, 8, 11);
    expect(ok(logmeRegression(informative.f, targets)).value).toBeGreaterThan(ok(logmeRegression(unrelated, targets)).value);
  });

  it('H-score: higher with informative features, blind to class ids', () => {
    expect(ok(hScore(informative.f, informative.y)).value).toBeGreaterThan(ok(hScore(noise.f, noise.y)).value);
    expect(ok(hScore(informative.f, relabel(informative.y, permuted))).value).toBeCloseTo(ok(hScore(informative.f, informative.y)).value, 10);
  });

  it('LEEP and NCE: 0 when the source class determines the target class, lower when it does not, blind to ids', () => {
    const y = Array.from({ length: 30 }, (_, i) => i % 3);
    const certain: Matrix = { rows: 30, cols: 3, data: Float32Array.from(y.flatMap((c) => [0, 1, 2].map((k) => (k === c ? 1 : 0)))) };
    const vague: Matrix = { rows: 30, cols: 3, data: new Float32Array(90).fill(1 / 3) };
    expect(ok(leep(certain, y)).value).toBeCloseTo(0, 10);
    expect(ok(leep(vague, y)).value).toBeCloseTo(Math.log(1 / 3), 6);
    expect(ok(leep(certain, relabel(y, permuted))).value).toBeCloseTo(0, 10);
    expect(ok(nce(y, relabel(y, permuted))).value).toBeCloseTo(0, 12);
    expect(ok(nce(y.map(() => 0), y)).value).toBeCloseTo(Math.log(1 / 3), 12);
  });
});

describe('degenerate input is a Left', () => {
  const one = sample(1, 3, 1);
  const x = sample(10, 3, 2);
  const wide = sample(10, 4, 3);
  const nan: Matrix = { rows: 2, cols: 1, data: new Float32Array([0, Number.NaN]) };
  const y = Array.from({ length: 10 }, (_, i) => i % 2);
  it.each<[string, () => E.Either<TransferError, unknown>, string]>([
    ['MMD with one sample', () => mmd(one, x), 'source.rows'],
    ['MMD with mismatched features', () => mmd(x, wide), 'target.cols'],
    ['MMD with NaN', () => mmd(x, { ...nan, cols: 3, rows: 2, data: new Float32Array([0, 0, 0, 0, 0, Number.NaN]) }), 'target.data[5] (row 1)'],
    ['MMD with bandwidth 0', () => mmd(x, x, { bandwidth: 0 }), 'options.bandwidth'],
    ['CORAL with one sample', () => coral(x, one), 'target.rows'],
    ['PAD with test fraction 1', () => proxyADistance(x, x, { testFraction: 1 }), 'options.testFraction'],
    ['LogME with a single class', () => logme(x, y.map(() => 0)), 'labels'],
    ['LogME with a negative label', () => logme(x, [-1, ...y.slice(1)]), 'labels[0]'],
    ['LogME with fewer labels than rows', () => logme(x, y.slice(1)), 'labels'],
    ['LogME with NaN features', () => logme(nan, [0, 1]), 'features.data[1] (row 1)'],
    ['LEEP with rows that are not probabilities', () => leep(x, y), 'sourceProbabilities row 0'],
    ['H-score with a fractional label', () => hScore(x, [0.5, ...y.slice(1)]), 'labels[0]'],
    ['NCE with labels of different lengths', () => nce(y, y.slice(2)), 'sourceLabels'],
    ['NCE with a negative source label', () => nce([-1, ...y.slice(1)], y), 'sourceLabels[0]'],
  ])('%s', (_, run, path) => {
    const e = err(run());
    expect(e.path ?? e.message).toBe(path);
  });
});

describe('hostile input: the hardening repros', () => {
  const x = sample(10, 3, 2);
  const y = Array.from({ length: 10 }, (_, i) => i % 2);

  it('LogME on all-zero features (a dead ReLU layer) is the noise-only evidence, not NaN', () => {
    const zeros: Matrix = { rows: 6, cols: 3, data: new Float32Array(18) };
    const labels = [0, 1, 0, 1, 0, 1];
    // With F = 0 the evidence of each one-hot target y is that of y as noise: β = N/‖y‖², and
    // log p / N = ½ log(N/‖y‖²) − ½ log 2π − ½; here ‖y‖² = 3 for both classes.
    const expected = 0.5 * Math.log(6 / 3) - 0.5 * Math.log(2 * Math.PI) - 0.5;
    expect(ok(logme(zeros, labels)).value).toBeCloseTo(expected, 12);
    // And it ranks below features that carry the labels.
    expect(ok(logme(labelled(6, 3, 2, 3, 1).f, labels)).value).toBeGreaterThan(expected);
  });

  it('200,000 rows and 130,000 features go through without overflowing the stack', () => {
    const n = 200_000;
    const tall: Matrix = { rows: n, cols: 2, data: Float32Array.from({ length: 2 * n }, (_, i) => ((i * 7919) % 101) / 101) };
    expect(Number.isFinite(ok(logme(tall, Array.from({ length: n }, (_, i) => i % 2))).value)).toBe(true);
    expect(Number.isFinite(ok(nce(Array.from({ length: n }, (_, i) => i % 5), Array.from({ length: n }, (_, i) => i % 2))).value)).toBe(true);
    const d = 130_000;
    const wideA: Matrix = { rows: 4, cols: d, data: Float32Array.from({ length: 4 * d }, (_, i) => (i % 13) / 13) };
    const wideB: Matrix = { rows: 4, cols: d, data: Float32Array.from({ length: 4 * d }, (_, i) => (i % 7) / 7 + 1) };
    expect(ok(proxyADistance(wideA, wideB, { iterations: 3 })).value).toBe(2);
  });

  it('NCE counts the pairs that occur: a source id of 10⁹ costs nothing', () => {
    const small = ok(nce([2, 0, 1, 0, 1, 0], [0, 1, 0, 1, 0, 1])).value;
    expect(ok(nce([1e9, 0, 1, 0, 1, 0], [0, 1, 0, 1, 0, 1])).value).toBe(small);
    expect(err(nce([2 ** 31, 0, 1, 0, 1, 0], [0, 1, 0, 1, 0, 1]))).toMatchObject({ path: 'sourceLabels[0]' });
  });

  it('a sample whose working matrix would not fit is refused, with the size that fits', () => {
    const n = 12_000;
    const big: Matrix = { rows: n, cols: 1, data: new Float32Array(n) };
    expect(err(mmd(big, big))).toMatchObject({ _tag: 'InvalidArgument', path: 'source.rows + target.rows' });
    expect(err(mmd(x, x, { permutations: 100_001 }))).toMatchObject({ path: 'options.permutations' });
    const wide: Matrix = { rows: 2, cols: 20_000, data: new Float32Array(40_000) };
    expect(err(coral(wide, wide))).toMatchObject({ path: 'source.cols' });
  });

  it('out-of-range options are refused, not clamped', () => {
    expect(err(proxyADistance(x, x, { l2: -5 }))).toMatchObject({ path: 'options.l2' });
    expect(err(proxyADistance(x, x, { iterations: 1e9 }))).toMatchObject({ path: 'options.iterations' });
    expect(err(proxyADistance(x, x, { seed: 0.5 }))).toMatchObject({ path: 'options.seed' });
    expect(err(mmd(x, x, null as never))).toMatchObject({ path: 'options' });
  });

  it('a bandwidth so small that σ² is 0 still gives a finite MMD', () => {
    const r = ok(mmd(x, sample(10, 3, 4, 1), { bandwidth: 1e-300, permutations: 10 }));
    expect(Number.isFinite(r.value)).toBe(true);
  });

  it('null and undefined arguments are Lefts for every score', () => {
    for (const f of [logme, hScore, leep] as const) for (const bad of [null, undefined]) expect(err(f(bad as never, y))).toMatchObject({ _tag: 'InvalidArgument' });
    for (const bad of [null, undefined]) {
      expect(err(mmd(bad as never, x))).toMatchObject({ path: 'source' });
      expect(err(coral(x, bad as never))).toMatchObject({ path: 'target' });
      expect(err(nce(bad as never, y))).toMatchObject({ path: 'sourceLabels' });
      expect(err(logme(x, bad as never))).toMatchObject({ path: 'labels' });
      expect(err(logmeRegression(x, bad as never))).toMatchObject({ path: 'targets' });
    }
  });
});
