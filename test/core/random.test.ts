import { describe, expect, it } from 'vitest';
import { deriveSeed, permutation, seededRandom } from '../../src/core/random';

describe('seeded randomness', () => {
  it('repeats for one seed and differs for another', () => {
    const draw = (seed: number) => Array.from({ length: 5 }, seededRandom(seed));
    expect(draw(1)).toEqual(draw(1));
    expect(draw(1)).not.toEqual(draw(2));
    expect(draw(3).every((v) => v >= 0 && v < 1)).toBe(true);
  });

  it('permutations hold every index once and are roughly uniform', () => {
    const p = permutation(1000, seededRandom(4));
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    // Where index 0 lands over many shuffles of 4: each slot about a quarter of the time.
    const slots = [0, 0, 0, 0];
    for (let s = 0; s < 4000; s++) slots[permutation(4, seededRandom(s)).indexOf(0)]! += 1;
    slots.forEach((c) => expect(c).toBeGreaterThan(850));
  });

  it('derived seeds differ by label and are non-negative integers', () => {
    const seeds = [0, 1, 2, 3].map((l) => deriveSeed(5, l));
    expect(new Set(seeds).size).toBe(4);
    seeds.forEach((s) => expect(Number.isInteger(s) && s >= 0).toBe(true));
  });
});
