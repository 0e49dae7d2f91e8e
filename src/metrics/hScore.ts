import { either as E } from 'fp-ts';
import { guard } from '../core/boundary';
import { backendFailure, type TransferError } from '../core/errors';
import type { Labels } from '../core/labels';
import type { Matrix } from '../core/matrix';
import { checkLabelled, checkSquare } from './checks';
import { dense, gramCols, symmetricEigen } from './linalg';

/** Result of {@link hScore}. */
export interface HScoreResult {
  /** tr(cov(f)⁺ cov(E[f | y])), ≥ 0. */
  readonly value: number;
  /** Whether a larger value is better for transfer: true here, since a larger value means the features suit the target better. */
  readonly higherIsBetter: true;
}

/**
 * H-score: how much of the features' variance lies between the target classes, measured in the
 * features' own metric.
 *
 * @remarks Bao, Li, Huang, Li, Zhang & Li, "An Information-Theoretic Approach to Transferability
 * in Task Transfer Learning", ICIP 2019: H(f) = tr(cov(f)⁻¹ cov(E_{P_{X|Y}}[f(X) | Y])). Covariances
 * use 1/N; a singular cov(f) (more features than examples, or constant features) is inverted on its
 * range (eigenvalues above 1e-10 × the largest), i.e. with the pseudo-inverse.
 *
 * @example
 * ```ts
 * import { hScore, matrix } from 'transferkit';
 * import { either as E } from 'fp-ts';
 *
 * const f = matrix(4, 1, new Float32Array([0, 0.2, 1, 1.2]));
 * if (E.isRight(f)) console.log(hScore(f.right, [0, 0, 1, 1])); // close to 1: nearly all variance is between classes
 * ```
 * @function
 */
export const hScore = guard('hScore', (features: Matrix, labels: Labels): E.Either<TransferError, HScoreResult> => {
  const checked = checkLabelled(features, labels);
  if (E.isLeft(checked)) return checked;
  const { f, ids: y, classes } = checked.right;
  const { rows: n, cols: d, data } = f;
  const size = checkSquare('features.cols', 'features', Math.max(d, classes));
  if (E.isLeft(size)) return size;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] = mean[j]! + data[i * d + j]! / n;
  const centred = dense(n, d, Float64Array.from(data, (v, i) => (v - mean[i % d]!) / Math.sqrt(n)));
  // Columns √p_c (μ_c − μ): cov(E[f|y]) = B Bᵀ.
  const b = dense(d, classes);
  const counts = new Float64Array(classes);
  y.forEach((c) => (counts[c] = counts[c]! + 1));
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) b.data[j * classes + y[i]!] = b.data[j * classes + y[i]!]! + data[i * d + j]! / counts[y[i]!]!;
  for (let j = 0; j < d; j++) for (let c = 0; c < classes; c++) b.data[j * classes + c] = Math.sqrt(counts[c]! / n) * (b.data[j * classes + c]! - mean[j]!);
  const eig = symmetricEigen(gramCols(centred), b);
  if (eig === undefined) return E.left(backendFailure('H-score', new Error('the eigenvalue iteration did not converge')));
  const largest = eig.values.reduce((a, b) => Math.max(a, b), 0);
  let value = 0;
  eig.values.forEach((lambda, i) => {
    if (lambda <= 1e-10 * largest) return;
    for (let c = 0; c < classes; c++) value += eig.projected.data[i * classes + c]! ** 2 / lambda;
  });
  return E.right({ value, higherIsBetter: true });
});
