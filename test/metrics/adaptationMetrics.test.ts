/** The metrics adaptation reads: SND, prediction information, importance weights, the CORAL map. */
import { either as E } from 'fp-ts';
import { describe, expect, it } from 'vitest';
import { coralMap, importanceWeights, matrix, predictionInformation, softNeighborhoodDensity, type Matrix } from 'transferkit';
import { err, ok } from '../fixtures/either';
import { seededRandom } from '../../src/core/random';

const rows = (values: number[][]): Matrix => ok(matrix(values.length, values[0]!.length, Float32Array.from(values.flat())));
const normal = (random: () => number): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());

describe('softNeighborhoodDensity', () => {
  it('is ln(n − 1) when every prediction is the same (each neighbourhood uniform), less for clusters, and checks its input', () => {
    const same = rows(Array.from({ length: 6 }, () => [0.7, 0.3]));
    expect(ok(softNeighborhoodDensity(same)).value).toBeCloseTo(Math.log(5), 6);
    const clusters = rows([[1, 0], [1, 0], [1, 0], [0, 1], [0, 1], [0, 1]]);
    expect(ok(softNeighborhoodDensity(clusters)).value).toBeLessThan(Math.log(5) - 0.5);
    expect(err(softNeighborhoodDensity(rows([[0.5, 0.5], [0.5, 0.5]])))._tag).toBe('InvalidArgument');
    expect(err(softNeighborhoodDensity(rows([[2, -1], [0.5, 0.5], [0.5, 0.5]])))._tag).toBe('InvalidArgument');
    expect(err(softNeighborhoodDensity(same, { temperature: 0 }))._tag).toBe('InvalidArgument');
  });
});

describe('predictionInformation', () => {
  it('is ln k for certain, balanced predictions, 0 for uniform ones or all in one class', () => {
    expect(ok(predictionInformation(rows([[1, 0, 0], [0, 1, 0], [0, 0, 1]]))).value).toBeCloseTo(Math.log(3), 6);
    expect(ok(predictionInformation(rows([[1 / 3, 1 / 3, 1 / 3], [1 / 3, 1 / 3, 1 / 3]]))).value).toBeCloseTo(0, 6);
    expect(ok(predictionInformation(rows([[1, 0, 0], [1, 0, 0]]))).value).toBeCloseTo(0, 6);
  });
});

describe('importanceWeights', () => {
  it('has mean 1, weighs target-like source rows more, and is capped', () => {
    const random = seededRandom(3);
    const source = rows(Array.from({ length: 200 }, () => [normal(random)]));
    const target = rows(Array.from({ length: 200 }, () => [1.5 + normal(random)]));
    const { weights, effectiveSize } = ok(importanceWeights(source, target));
    expect(weights.reduce((a, b) => a + b, 0) / weights.length).toBeCloseTo(1, 5);
    const high = [...weights].filter((_, i) => source.data[i]! > 1);
    const low = [...weights].filter((_, i) => source.data[i]! < -1);
    expect(Math.min(...high)).toBeGreaterThan(Math.max(...low));
    expect(effectiveSize).toBeLessThan(200);
    expect(effectiveSize).toBeGreaterThan(1);
    const capped = ok(importanceWeights(source, target, { maxWeight: 1 }));
    // Capped at 1 before scaling to mean 1: many rows share the cap, so the sample stays large.
    expect(capped.effectiveSize).toBeGreaterThan(effectiveSize);
    expect(err(importanceWeights(source, rows([[1, 2], [3, 4]])))._tag).toBe('ShapeMismatch');
  });
});

describe('coralMap', () => {
  it("moves the target's mean and (covariance + I) onto the source's", () => {
    const random = seededRandom(5);
    const source = rows(Array.from({ length: 400 }, () => {
      const a = normal(random);
      return [a, 0.5 * a + normal(random)];
    }));
    const target = rows(Array.from({ length: 300 }, () => [3 + 2 * normal(random), -1 + 0.5 * normal(random)]));
    const { map, shift } = ok(coralMap(source, target));
    const moved = rows(Array.from({ length: 300 }, (_, i) => [0, 1].map((j) => target.data[i * 2]! * map.data[j]! + target.data[i * 2 + 1]! * map.data[2 + j]! + shift[j]!)));
    const moments = (m: Matrix) => {
      const mean = [0, 1].map((j) => Array.from({ length: m.rows }, (_, i) => m.data[i * 2 + j]!).reduce((a, b) => a + b, 0) / m.rows);
      const cov = [0, 1].flatMap((j) => [0, 1].map((k) => Array.from({ length: m.rows }, (_, i) => (m.data[i * 2 + j]! - mean[j]!) * (m.data[i * 2 + k]! - mean[k]!)).reduce((a, b) => a + b, 0) / (m.rows - 1)));
      return { mean, cov };
    };
    const want = moments(source);
    const got = moments(moved);
    // The means match exactly. The map sends C_t + I to C_s + I (CORAL's regularised moments), so
    // the moved covariance is C_s + I − AᵀA: close to C_s where the target's spread dwarfs the I.
    got.mean.forEach((v, j) => expect(v).toBeCloseTo(want.mean[j]!, 4));
    const aTa = [0, 1].flatMap((j) => [0, 1].map((k) => map.data[j]! * map.data[k]! + map.data[2 + j]! * map.data[2 + k]!));
    got.cov.forEach((v, i) => expect(v).toBeCloseTo(want.cov[i]! + (i === 0 || i === 3 ? 1 : 0) - aTa[i]!, 2));
    expect(E.isRight(coralMap(source, rows([[1, 2], [3, 4]])))).toBe(true);
    expect(err(coralMap(source, rows([[1], [2]])))._tag).toBe('ShapeMismatch');
  });
});
