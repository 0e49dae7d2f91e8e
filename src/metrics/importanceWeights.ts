import { either as E } from 'fp-ts';
import { guard, optionsAt } from '../core/boundary';
import type { TransferError } from '../core/errors';
import type { Matrix } from '../core/matrix';
import { integerIn, nonNegativeNumber, optional, positiveNumber } from '../core/validate';
import { checkPair } from './checks';
import { fitLogistic, stack, standardise } from './logistic';
import { PAD_MAX_ITERATIONS } from './proxyADistance';

/** Result of {@link importanceWeights}. */
export interface ImportanceWeights {
  /** One weight per source row, ≥ 0, with mean 1. */
  readonly weights: Float32Array;
  /** Kish's effective sample size (Σw)² / Σw²: how many source rows the weighted sample is worth. */
  readonly effectiveSize: number;
}

/** Options of {@link importanceWeights}. */
export interface ImportanceWeightsOptions {
  /** L2 penalty of the domain classifier; default 1e-2. */
  readonly l2?: number;
  /** Its gradient steps, from 1 to 100,000; default 300. */
  readonly iterations?: number;
  /** The largest weight before normalising, > 0; default 10 (a few target-like rows must not take the whole sample). */
  readonly maxWeight?: number;
}

/**
 * Importance weights of source rows for a covariate shift: w(x) = p_t(x) / p_s(x), estimated by a
 * domain classifier as (n_s / n_t) · P(target | x) / P(source | x), clipped at `maxWeight`, then
 * scaled to mean 1.
 *
 * @remarks Shimodaira, "Improving predictive inference under covariate shift by weighting the
 * log-likelihood function", 2000 (weighting by the density ratio); the ratio from a probabilistic
 * domain classifier as in Bickel, Brückner & Scheffer, "Discriminative Learning Under Covariate
 * Shift", JMLR 2009. The classifier is L2-regularised logistic regression on standardised
 * features, trained on all rows of both samples.
 *
 * @param source - the source rows (features), one per example
 * @param target - the target rows, over the same features
 * @param options - the classifier's penalty and steps, the largest weight
 *
 * @example
 * ```ts
 * import { importanceWeights, matrix } from 'transferkit';
 * import { either as E } from 'fp-ts';
 *
 * const s = matrix(4, 1, new Float32Array([0, 1, 2, 3]));
 * const t = matrix(3, 1, new Float32Array([2.5, 3, 3.5]));
 * if (E.isRight(s) && E.isRight(t)) console.log(importanceWeights(s.right, t.right)); // larger weights on 2 and 3
 * ```
 * @function
 */
export const importanceWeights = guard('importanceWeights', (source: Matrix, target: Matrix, options?: ImportanceWeightsOptions): E.Either<TransferError, ImportanceWeights> => {
  const o = optionsAt('options', options);
  if (E.isLeft(o)) return o;
  const l2 = optional(nonNegativeNumber, 1e-2)('options.l2', o.right.l2);
  if (E.isLeft(l2)) return l2;
  const iterations = optional(integerIn(1, PAD_MAX_ITERATIONS), 300)('options.iterations', o.right.iterations);
  if (E.isLeft(iterations)) return iterations;
  const maxWeight = optional(positiveNumber, 10)('options.maxWeight', o.right.maxWeight);
  if (E.isLeft(maxWeight)) return maxWeight;
  const pair = checkPair(source, target);
  if (E.isLeft(pair)) return pair;
  const [s, t] = pair.right;
  const all = (n: number) => Int32Array.from({ length: n }, (_, i) => i);
  const rows = stack(s, all(s.rows), t, all(t.rows));
  standardise(rows, { x: new Float64Array(0), y: new Float64Array(0), n: 0 }, s.cols);
  const { w, b } = fitLogistic(rows, s.cols, l2.right, iterations.right);
  const weights = new Float32Array(s.rows);
  let sum = 0;
  for (let i = 0; i < s.rows; i++) {
    let z = b;
    for (let j = 0; j < s.cols; j++) z += w[j]! * rows.x[i * s.cols + j]!;
    // The odds P(target | x) / P(source | x) are e^z; the prior ratio n_s / n_t corrects for the sample sizes.
    const ratio = Math.min(maxWeight.right, (s.rows / t.rows) * Math.exp(Math.min(z, 50)));
    weights[i] = ratio;
    sum += ratio;
  }
  let squares = 0;
  for (let i = 0; i < s.rows; i++) {
    weights[i] = sum > 0 ? (weights[i]! * s.rows) / sum : 1;
    squares += weights[i]! ** 2;
  }
  return E.right({ weights, effectiveSize: s.rows ** 2 / squares });
});
