import { either as E } from 'fp-ts';
import { guard, optionsAt } from '../core/boundary';
import { invalidArgument, type TransferError } from '../core/errors';
import type { Matrix } from '../core/matrix';
import { deriveSeed, permutation, seededRandom } from '../core/random';
import { integer, optional, positiveInteger, positiveNumber } from '../core/validate';
import { checkProbabilities } from './checks';

/** Result of {@link softNeighborhoodDensity}. */
export interface SndResult {
  /** The mean entropy of each row's soft neighbourhood, in nats: between 0 and ln(n − 1). */
  readonly value: number;
  /** How many rows it was computed on (at most `options.maxRows`, a seeded sample). */
  readonly rows: number;
  /** A larger value is better: predictions that cluster densely, without collapsing to one point per class. */
  readonly higherIsBetter: true;
}

/** Options of {@link softNeighborhoodDensity}. */
export interface SndOptions {
  /** The softmax temperature over similarities; default 0.05 (the paper's). */
  readonly temperature?: number;
  /** At most this many rows, sampled with `seed` (the cost is quadratic); default 2,000. */
  readonly maxRows?: number;
  /** Seeds the sample; default 0. */
  readonly seed?: number;
}

/**
 * Soft neighbourhood density: how densely a model's predictions on unlabelled target inputs
 * cluster, to compare adapted models without target labels.
 *
 * @remarks Saito, Kim, Teterwak, Sclaroff, Darrell & Saenko, "Tune it the Right Way: Unsupervised
 * Validation of Domain Adaptation via Soft Neighborhood Density", ICCV 2021, eq. 1–3: each row of
 * probabilities is L2-normalised, its cosine similarities to the other rows pass through a softmax
 * at temperature τ, and SND is the mean entropy of those neighbourhood distributions.
 *
 * @param probabilities - a model's class probabilities on the target inputs, one row each (at least 3)
 * @param options - temperature, row cap and seed
 *
 * @example
 * ```ts
 * import { matrix, softNeighborhoodDensity } from 'transferkit';
 * import { either as E } from 'fp-ts';
 *
 * const p = matrix(4, 2, new Float32Array([0.9, 0.1, 0.8, 0.2, 0.1, 0.9, 0.3, 0.7]));
 * if (E.isRight(p)) console.log(softNeighborhoodDensity(p.right));
 * ```
 * @function
 */
export const softNeighborhoodDensity = guard('softNeighborhoodDensity', (probabilities: Matrix, options?: SndOptions): E.Either<TransferError, SndResult> => {
  const o = optionsAt('options', options);
  if (E.isLeft(o)) return o;
  const temperature = optional(positiveNumber, 0.05)('options.temperature', o.right.temperature);
  if (E.isLeft(temperature)) return temperature;
  const maxRows = optional(positiveInteger, 2000)('options.maxRows', o.right.maxRows);
  if (E.isLeft(maxRows)) return maxRows;
  const seed = optional(integer, 0)('options.seed', o.right.seed);
  if (E.isLeft(seed)) return seed;
  const checked = checkProbabilities('probabilities', probabilities);
  if (E.isLeft(checked)) return checked;
  const { rows, cols, data } = checked.right;
  const take = Math.max(3, Math.min(rows, maxRows.right));
  if (rows < 3) return E.left(invalidArgument('probabilities.rows', 'at least 3 rows (each needs neighbours)', rows));
  const order = rows <= take ? Int32Array.from({ length: rows }, (_, i) => i) : permutation(rows, seededRandom(deriveSeed(seed.right, 1))).subarray(0, take);
  const unit = new Float64Array(take * cols);
  order.forEach((row, k) => {
    let norm = 0;
    for (let j = 0; j < cols; j++) norm += data[row * cols + j]! ** 2;
    const s = 1 / Math.sqrt(Math.max(norm, 1e-300));
    for (let j = 0; j < cols; j++) unit[k * cols + j] = data[row * cols + j]! * s;
  });
  const logits = new Float64Array(take);
  let total = 0;
  for (let i = 0; i < take; i++) {
    let top = -Infinity;
    for (let k = 0; k < take; k++) {
      if (k === i) continue;
      let dot = 0;
      for (let j = 0; j < cols; j++) dot += unit[i * cols + j]! * unit[k * cols + j]!;
      logits[k] = dot / temperature.right;
      if (logits[k]! > top) top = logits[k]!;
    }
    let z = 0;
    for (let k = 0; k < take; k++) if (k !== i) z += Math.exp(logits[k]! - top);
    const logZ = Math.log(z) + top;
    let entropy = 0;
    for (let k = 0; k < take; k++) {
      if (k === i) continue;
      const logP = logits[k]! - logZ;
      entropy -= Math.exp(logP) * logP;
    }
    total += entropy;
  }
  return E.right({ value: total / take, rows: take, higherIsBetter: true });
});
