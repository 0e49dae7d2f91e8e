import { either as E } from 'fp-ts';
import { guard } from '../core/boundary';
import type { TransferError } from '../core/errors';
import type { Matrix } from '../core/matrix';
import { checkPair, checkSquare } from './checks';
import { covariance } from './linalg';

/** Result of {@link coral}. */
export interface CoralResult {
  /** ‖C_s − C_t‖²_F / (4d²), ≥ 0. */
  readonly value: number;
  /** Whether a larger value is better for transfer: false here, since a larger value is a larger shift. */
  readonly higherIsBetter: false;
}

/**
 * CORAL distance between two samples: how far apart their feature covariances are.
 *
 * @remarks Sun & Saenko, "Deep CORAL: Correlation Alignment for Deep Domain Adaptation", ECCV
 * Workshops 2016, eq. (1): ℓ = ‖C_S − C_T‖²_F / (4d²), with unbiased covariances (their eq. 2–3).
 * It sees second-order differences only: two samples with equal covariances and different means
 * score 0.
 *
 * @example
 * ```ts
 * import { coral, matrix } from 'transferkit';
 * import { either as E } from 'fp-ts';
 *
 * const a = matrix(3, 2, new Float32Array([0, 0, 1, 1, 2, 2]));
 * const b = matrix(3, 2, new Float32Array([0, 0, 2, 2, 4, 4]));
 * if (E.isRight(a) && E.isRight(b)) console.log(coral(a.right, b.right)); // Right({ value: 2.25, ... })
 * ```
 * @function
 */
export const coral = guard('coral', (source: Matrix, target: Matrix): E.Either<TransferError, CoralResult> => {
  const pair = checkPair(source, target);
  if (E.isLeft(pair)) return pair;
  const [x, y] = pair.right;
  const size = checkSquare('source.cols', 'features', x.cols);
  if (E.isLeft(size)) return size;
  const cs = covariance(x);
  const ct = covariance(y);
  let sum = 0;
  for (let i = 0; i < cs.length; i++) sum += (cs[i]! - ct[i]!) ** 2;
  return E.right({ value: sum / (4 * x.cols * x.cols), higherIsBetter: false });
});
