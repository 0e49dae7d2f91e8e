/**
 * Seeded pseudo-random numbers, so shuffling and splits repeat exactly for one seed.
 *
 * @remarks mulberry32, a 32-bit generator by Tommy Ettinger (public domain); small, fast and
 * good enough for shuffling (it is not cryptographic).
 */
export const seededRandom = (seed: number): (() => number) => {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

/** A uniformly random permutation of 0 … n−1 (Fisher–Yates), drawn from `random`. */
export const permutation = (n: number, random: () => number): Int32Array => {
  const out = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = out[i]!;
    out[i] = out[j]!;
    out[j] = t;
  }
  return out;
};

/** Derives a new 31-bit seed from a seed and a label, so each use of randomness gets its own stream. */
export const deriveSeed = (seed: number, label: number): number => (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + label * 0xc2b2ae35) >>> 1;
