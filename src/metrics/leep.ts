import { either as E } from 'fp-ts';
import { guard } from '../core/boundary';
import type { TransferError } from '../core/errors';
import type { Labels } from '../core/labels';
import type { Matrix } from '../core/matrix';
import { checkLabelled, checkProbabilities } from './checks';

/** Result of {@link leep}. */
export interface LeepResult {
  /** Mean log-likelihood of the target labels under the empirical predictor, ≤ 0. */
  readonly value: number;
  /** Whether a larger value is better for transfer: true here, since a larger value means the features suit the target better. */
  readonly higherIsBetter: true;
}

/**
 * LEEP: how well the source model's own class probabilities on target inputs predict the target
 * labels, through the empirical conditional P(y | z) of target label y given source class z.
 *
 * @remarks Nguyen, Hassner, Seeger & Archambeau, "LEEP: A New Measure to Evaluate Transferability
 * of Learned Representations", ICML 2020, eq. (1)–(2): P̂(y, z) = 1/n Σ_{i: yᵢ = y} θ(xᵢ)_z,
 * P̂(y | z) = P̂(y, z) / Σ_y' P̂(y', z), LEEP = 1/n Σᵢ log Σ_z P̂(yᵢ | z) θ(xᵢ)_z.
 *
 * @param sourceProbabilities - the source model's class probabilities on the target inputs, one row each
 * @param labels - the target labels
 *
 * @example
 * ```ts
 * import { leep, matrix } from 'transferkit';
 * import { either as E } from 'fp-ts';
 *
 * const theta = matrix(4, 2, new Float32Array([0.9, 0.1, 0.8, 0.2, 0.1, 0.9, 0.3, 0.7]));
 * if (E.isRight(theta)) console.log(leep(theta.right, [0, 0, 1, 1]));
 * ```
 * @function
 */
export const leep = guard('leep', (sourceProbabilities: Matrix, labels: Labels): E.Either<TransferError, LeepResult> => {
  const checked = checkLabelled(sourceProbabilities, labels, checkProbabilities, 'sourceProbabilities');
  if (E.isLeft(checked)) return checked;
  const { f: theta, ids: y, classes } = checked.right;
  const { rows: n, cols: z, data } = theta;
  const joint = new Float64Array(classes * z);
  for (let i = 0; i < n; i++) for (let j = 0; j < z; j++) joint[y[i]! * z + j] = joint[y[i]! * z + j]! + data[i * z + j]! / n;
  const marginal = new Float64Array(z);
  for (let c = 0; c < classes; c++) for (let j = 0; j < z; j++) marginal[j] = marginal[j]! + joint[c * z + j]!;
  let total = 0;
  for (let i = 0; i < n; i++) {
    let p = 0;
    for (let j = 0; j < z; j++) if (marginal[j]! > 0) p += (joint[y[i]! * z + j]! / marginal[j]!) * data[i * z + j]!;
    total += Math.log(Math.max(p, 1e-300));
  }
  return E.right({ value: total / n, higherIsBetter: true });
});
