import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PROBE_CONFIDENCE_Z } from 'transferkit';
import { gainSimilarity, similarityInterval } from '../../src/strategy/race/interval';

describe('gainSimilarity: the probe similarity from its two accuracies', () => {
  it('reads an exact tie as 0.5 exactly, where (1 + a − a) / 2 in that order does not (a = 0.4 and 0.9)', () => {
    for (const a of [0, 0.1, 0.4, 0.52, 0.9, 1]) expect(gainSimilarity(a, a)).toBe(0.5);
    expect(gainSimilarity(1, 0)).toBe(1);
    expect(gainSimilarity(0, 1)).toBe(0);
    expect(gainSimilarity(0.8, 0.6)).toBeCloseTo(0.6, 12);
  });
});

describe("similarityInterval: the probe's interval on the similarity scale", () => {
  it('is a one-sided 95 % bound each side, Agresti–Caffo: one success and one failure added to each accuracy', () => {
    expect(PROBE_CONFIDENCE_Z).toBe(1.645);
    // 25 rows, 20 and 10 right: adjusted 21/27 and 11/27; the half-width is z·√(Σ p(1−p)/27), halved onto the similarity scale.
    const p = 21 / 27;
    const r = 11 / 27;
    const half = PROBE_CONFIDENCE_Z * Math.sqrt((p * (1 - p) + r * (1 - r)) / 27);
    const { low, high } = similarityInterval(20 / 25, 10 / 25, 25);
    expect(low).toBeCloseTo((1 + p - r - half) / 2, 12);
    expect(high).toBeCloseTo((1 + p - r + half) / 2, 12);
  });

  it('is centred on 0.5 for a tie, and narrows as more rows are scored', () => {
    const widths = [10, 25, 100, 500].map((n) => {
      const { low, high } = similarityInterval(0.8, 0.8, n);
      expect(low + high).toBeCloseTo(1, 12);
      return high - low;
    });
    for (let i = 1; i < widths.length; i++) expect(widths[i]!).toBeLessThan(widths[i - 1]!);
    // On 25 rows a tie at 0.8 leaves the similarity anywhere in about 0.41–0.59: the probe cannot tell 0.46 from 0.5.
    expect(similarityInterval(0.8, 0.8, 25).low).toBeLessThan(0.42);
  });

  it('shows a reading below 0.5 only with the rows to back it: 0.4 on 10 rows is not shown, 0.4 on 500 is', () => {
    expect(similarityInterval(0.6, 0.8, 10).high).toBeGreaterThan(0.5);
    expect(similarityInterval(0.6, 0.8, 500).high).toBeLessThan(0.5);
  });

  it('stays in [0, 1] with low ≤ high, whatever the accuracies and row count, none scored included', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 100_000 }), (a, b, n) => {
        const { low, high } = similarityInterval(a, b, n);
        expect(Number.isFinite(low) && Number.isFinite(high)).toBe(true);
        expect(0 <= low && low <= high && high <= 1).toBe(true);
      }),
    );
    expect(similarityInterval(1, 0, 10_000).high).toBe(1);
    expect(similarityInterval(0, 1, 10_000).low).toBe(0);
  });
});
