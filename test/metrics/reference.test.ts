/**
 * Pinned values from an independent reference: scripts/reference/metrics.py (numpy, written from the
 * papers the direct way), whose output is test/metrics/reference.json. Regenerate with
 * `python3 scripts/reference/metrics.py > test/metrics/reference.json`.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { coral, hScore, leep, logme, logmeRegression, mmd, nce, type Matrix } from 'transferkit';
import { ok } from '../fixtures/either';

interface Case {
  readonly value: number;
  readonly [key: string]: unknown;
}
const { cases } = JSON.parse(readFileSync(new URL('./reference.json', import.meta.url), 'utf8')) as { cases: Record<string, Case> };

const m = (rows: unknown): Matrix => {
  const r = rows as number[][];
  return { rows: r.length, cols: r[0]!.length, data: Float32Array.from(r.flat()) };
};
const ids = (v: unknown): number[] => v as number[];

describe('metrics against the numpy reference', () => {
  it('LogME, N > D (the D×D eigenproblem)', () => {
    const c = cases.logme_tall!;
    const r = ok(logme(m(c.features), ids(c.labels)));
    expect(r.value).toBeCloseTo(c.value, 9);
    r.perTarget.forEach((v, i) => expect(v).toBeCloseTo((c.perTarget as number[])[i]!, 9));
  });

  it('LogME, D > N (the N×N eigenproblem)', () => {
    const c = cases.logme_wide!;
    expect(ok(logme(m(c.features), ids(c.labels))).value).toBeCloseTo(c.value, 9);
  });

  // Nearly rank-deficient features: the eigensolver must deflate a cluster of rounding-level
  // eigenvalues (it once gave up here with "did not converge", on both sides).
  it.each(['logme_periodic_wide', 'logme_periodic_tall'])('LogME on periodic, nearly rank-deficient features (%s)', (name) => {
    const c = cases[name]!;
    const [rows, cols] = [c.rows as number, c.cols as number];
    const features: Matrix = { rows, cols, data: Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(0.37 * i) * ((i % 7) + 1)) };
    expect(ok(logme(features, Array.from({ length: rows }, (_, i) => i % 3))).value).toBeCloseTo(c.value, 9);
  });

  it('LogME for regression targets', () => {
    const c = cases.logme_regression!;
    expect(ok(logmeRegression(m(c.features), m(c.targets))).value).toBeCloseTo(c.value, 9);
  });

  it('MMD² (unbiased) and the median-heuristic bandwidth', () => {
    const c = cases.mmd!;
    const r = ok(mmd(m(c.source), m(c.target), { permutations: 0 }));
    expect(r.value).toBeCloseTo(c.value, 10);
    expect(r.bandwidth).toBeCloseTo(c.bandwidth as number, 10);
  });

  it('CORAL', () => {
    const c = cases.coral!;
    expect(ok(coral(m(c.source), m(c.target))).value).toBeCloseTo(c.value, 10);
  });

  it('LEEP', () => {
    const c = cases.leep!;
    expect(ok(leep(m(c.probabilities), ids(c.labels))).value).toBeCloseTo(c.value, 6);
  });

  it('H-score, and with more features than examples (pseudo-inverse)', () => {
    expect(ok(hScore(m(cases.h_score!.features), ids(cases.h_score!.labels))).value).toBeCloseTo(cases.h_score!.value, 8);
    expect(ok(hScore(m(cases.h_score_wide!.features), ids(cases.h_score_wide!.labels))).value).toBeCloseTo(cases.h_score_wide!.value, 6);
  });

  it('NCE', () => {
    const c = cases.nce!;
    expect(ok(nce(ids(c.sourceLabels), ids(c.labels))).value).toBeCloseTo(c.value, 12);
  });
});
