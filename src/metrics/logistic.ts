/**
 * L2-regularised logistic regression on two samples told apart (0: the first, 1: the second), the
 * domain classifier of the proxy A-distance and of importance weighting.
 */
import type { Dense } from './linalg';

/** Rows and their domain labels. */
export interface Split {
  readonly x: Float64Array;
  readonly y: Float64Array;
  readonly n: number;
}

/** Stacks the chosen rows of both samples, labels 0 (source) / 1 (target). */
export const stack = (a: Dense, ia: Int32Array, b: Dense, ib: Int32Array): Split => {
  const d = a.cols;
  const n = ia.length + ib.length;
  const x = new Float64Array(n * d);
  const y = new Float64Array(n);
  ia.forEach((r, i) => x.set(a.data.subarray(r * d, (r + 1) * d), i * d));
  ib.forEach((r, i) => {
    x.set(b.data.subarray(r * d, (r + 1) * d), (ia.length + i) * d);
    y[ia.length + i] = 1;
  });
  return { x, y, n };
};

/** Standardises columns with the training split's mean and standard deviation (in place). */
export const standardise = (train: Split, test: Split, d: number): void => {
  for (let j = 0; j < d; j++) {
    let mean = 0;
    for (let i = 0; i < train.n; i++) mean += train.x[i * d + j]! / train.n;
    let variance = 0;
    for (let i = 0; i < train.n; i++) variance += (train.x[i * d + j]! - mean) ** 2 / train.n;
    const sd = Math.sqrt(variance) || 1;
    for (const s of [train, test]) for (let i = 0; i < s.n; i++) s.x[i * d + j] = (s.x[i * d + j]! - mean) / sd;
  }
};

/** Largest eigenvalue of XᵀX / n by power iteration: sets a safe gradient step. */
const largestEigenvalue = (s: Split, d: number): number => {
  let v = new Float64Array(d).fill(1 / Math.sqrt(d));
  let lambda = 0;
  for (let it = 0; it < 30; it++) {
    const w = new Float64Array(d);
    for (let i = 0; i < s.n; i++) {
      let xv = 0;
      for (let j = 0; j < d; j++) xv += s.x[i * d + j]! * v[j]!;
      for (let j = 0; j < d; j++) w[j] = w[j]! + (xv * s.x[i * d + j]!) / s.n;
    }
    let sum = 0;
    for (let j = 0; j < d; j++) sum += w[j]! * w[j]!;
    lambda = Math.sqrt(sum);
    if (lambda === 0) return 0;
    v = w.map((x) => x / lambda);
  }
  return lambda;
};

/** L2-regularised logistic regression by gradient descent with step 1/L. */
export const fitLogistic = (s: Split, d: number, l2: number, iterations: number): { w: Float64Array; b: number } => {
  const w = new Float64Array(d);
  let b = 0;
  const step = 1 / (largestEigenvalue(s, d) / 4 + l2 + 0.25);
  for (let it = 0; it < iterations; it++) {
    const gw = Float64Array.from(w, (v) => l2 * v);
    let gb = 0;
    for (let i = 0; i < s.n; i++) {
      let z = b;
      for (let j = 0; j < d; j++) z += w[j]! * s.x[i * d + j]!;
      const r = 1 / (1 + Math.exp(-z)) - s.y[i]!;
      gb += r / s.n;
      for (let j = 0; j < d; j++) gw[j] = gw[j]! + (r * s.x[i * d + j]!) / s.n;
    }
    for (let j = 0; j < d; j++) w[j] = w[j]! - step * gw[j]!;
    b -= step * gb;
  }
  return { w, b };
};
