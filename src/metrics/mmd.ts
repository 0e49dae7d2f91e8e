import { either as E, function as F } from 'fp-ts';
import { guard, optionsAt } from '../core/boundary';
import type { TransferError } from '../core/errors';
import type { Matrix } from '../core/matrix';
import { permutation, seededRandom } from '../core/random';
import { integer, integerIn, optional, positiveNumber } from '../core/validate';
import { checkPair, checkSquare } from './checks';
import { gramRows, type Dense } from './linalg';

/** Result of {@link mmd}. */
export interface MmdResult {
  /** The unbiased estimate of MMD² (can be slightly negative when the samples are alike). */
  readonly value: number;
  /** Lower means more alike. */
  readonly higherIsBetter: false;
  /** The Gaussian kernel's bandwidth σ used. */
  readonly bandwidth: number;
  /** Permutation-test p-value for "both samples come from one distribution"; absent with 0 permutations. */
  readonly pValue?: number;
  /** How many permutations the p-value used (0: none computed). */
  readonly permutations: number;
}

/** Options of {@link mmd}. */
export interface MmdOptions {
  /** Gaussian kernel bandwidth σ > 0. Default: the median pairwise distance of the pooled sample. */
  readonly bandwidth?: number;
  /** Permutations for the p-value, an integer from 0 (none) to {@link MAX_PERMUTATIONS}. Default 200. */
  readonly permutations?: number;
  /** Seeds the permutations, an integer. Default 0. */
  readonly seed?: number;
}

/** The most permutations a test runs: a p-value resolution of 1e-5, and a bound on the work (each permutation is a pass over the rows² kernel matrix). */
export const MAX_PERMUTATIONS = 100_000;

const pooled = (x: Dense, y: Dense): Dense => {
  const data = new Float64Array((x.rows + y.rows) * x.cols);
  data.set(x.data);
  data.set(y.data, x.data.length);
  return { rows: x.rows + y.rows, cols: x.cols, data };
};

/** Squared distances of every pair of rows, from the Gram matrix: ‖a‖² + ‖b‖² − 2a·b (clamped at 0). */
const squaredDistances = (z: Dense): Float64Array => {
  const g = gramRows(z).data;
  const n = z.rows;
  const d2 = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) d2[i * n + j] = Math.max(0, g[i * n + i]! + g[j * n + j]! - 2 * g[i * n + j]!);
  return d2;
};

const median = (values: Float64Array): number => {
  const s = values.sort();
  const h = s.length >> 1;
  return s.length % 2 === 1 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
};

/** Unbiased MMD² from a kernel matrix over the pooled sample and a membership flag (true = first sample). */
const statistic = (k: Float64Array, n: number, inX: Uint8Array, m: number): number => {
  let xx = 0;
  let yy = 0;
  let xy = 0;
  for (let i = 0; i < n; i++) {
    const o = i * n;
    for (let j = i + 1; j < n; j++) {
      const v = k[o + j]!;
      if (inX[i] && inX[j]) xx += v;
      else if (!inX[i] && !inX[j]) yy += v;
      else xy += v;
    }
  }
  const r = n - m;
  return (2 * xx) / (m * (m - 1)) + (2 * yy) / (r * (r - 1)) - (2 * xy) / (m * r);
};

/**
 * Maximum mean discrepancy between two samples: the unbiased estimate of MMD² with a Gaussian
 * kernel, and a permutation-test p-value.
 *
 * @remarks
 * Gretton, Borgwardt, Rasch, Schölkopf & Smola, "A Kernel Two-Sample Test", JMLR 13, 2012: eq. (3),
 * MMD²_u = 1/(m(m−1)) Σ_{i≠j} k(xᵢ,xⱼ) + 1/(n(n−1)) Σ_{i≠j} k(yᵢ,yⱼ) − 2/(mn) Σ k(xᵢ,yⱼ), with
 * k(a,b) = exp(−‖a−b‖²/(2σ²)). σ defaults to the median pairwise distance of the pooled sample (the
 * "median heuristic", their §8). The p-value is (1 + #{permuted ≥ observed}) / (1 + permutations),
 * reassigning the pooled rows to the two samples at random. Cost: O((m+n)² · (features + permutations)).
 *
 * @example
 * ```ts
 * import { matrix, mmd } from 'transferkit';
 * import { either as E } from 'fp-ts';
 *
 * const a = matrix(4, 1, new Float32Array([0, 0.1, 0.2, 0.3]));
 * const b = matrix(4, 1, new Float32Array([5, 5.1, 5.2, 5.3]));
 * if (E.isRight(a) && E.isRight(b)) {
 *   const r = mmd(a.right, b.right, { permutations: 100, seed: 1 });
 *   if (E.isRight(r)) console.log(r.right.value > 0, r.right.pValue); // true, a small p-value
 * }
 * ```
 * @function
 */
export const mmd = guard('mmd', (source: Matrix, target: Matrix, optionsIn: MmdOptions = {}): E.Either<TransferError, MmdResult> => {
  const pair = checkPair(source, target);
  if (E.isLeft(pair)) return pair;
  const checked = F.pipe(
    optionsAt('options', optionsIn),
    E.bindTo('options'),
    E.bind('permutations', ({ options }) => optional(integerIn(0, MAX_PERMUTATIONS), 200)('options.permutations', options.permutations)),
    E.bind('seed', ({ options }) => optional(integer, 0)('options.seed', options.seed)),
    E.bind('bandwidth', ({ options }) => optional(positiveNumber, Number.NaN)('options.bandwidth', options.bandwidth)),
  );
  if (E.isLeft(checked)) return checked;
  const { permutations, seed } = checked.right;
  const [x, y] = pair.right;
  const size = checkSquare('source.rows + target.rows', 'rows in both samples together', x.rows + y.rows);
  if (E.isLeft(size)) return size;
  const z = pooled(x, y);
  const n = z.rows;
  const d2 = squaredDistances(z);
  let sigma = checked.right.bandwidth;
  if (Number.isNaN(sigma)) {
    const distances = new Float64Array((n * (n - 1)) / 2);
    let at = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) distances[at++] = Math.sqrt(d2[i * n + j]!);
    const med = median(distances);
    sigma = med > 0 ? med : 1;
  }
  const width = 2 * sigma * sigma;
  // k(a, a) = 1 exactly, also for a bandwidth so small that σ² rounds to 0 (0/0 would be NaN).
  const k = d2.map((v) => (v === 0 ? 1 : Math.exp(-v / width)));
  const membership = Uint8Array.from({ length: n }, (_, i) => (i < x.rows ? 1 : 0));
  const value = statistic(k, n, membership, x.rows);
  if (permutations === 0) return E.right({ value, higherIsBetter: false, bandwidth: sigma, permutations: 0 });
  const random = seededRandom(seed);
  let atLeast = 0;
  for (let p = 0; p < permutations; p++) {
    const order = permutation(n, random);
    const shuffled = new Uint8Array(n);
    for (let i = 0; i < x.rows; i++) shuffled[order[i]!] = 1;
    if (statistic(k, n, shuffled, x.rows) >= value) atLeast++;
  }
  return E.right({ value, higherIsBetter: false, bandwidth: sigma, pValue: (1 + atLeast) / (1 + permutations), permutations });
});
