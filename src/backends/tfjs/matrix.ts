import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { either as E } from 'fp-ts';
import { guard, isRecord } from '../../core/boundary';
import { backendFailure, described, invalidArgument, shapeMismatch, type TransferError } from '../../core/errors';
import { matrix, type Matrix } from '../../core/matrix';
import { isTensor } from './inputs';

/**
 * Reads a tensor of shape [N, ...] into a {@link Matrix} of N rows, each example flattened.
 *
 * The tensor is read, never disposed: the caller owns it. No tensor is left behind.
 *
 * @returns the matrix, or `ShapeMismatch` for a scalar, `InvalidArgument` for a string tensor or
 * a NaN/Infinity value (its row is named)
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-cpu';
 * import { toMatrix } from 'transferkit/tfjs';
 *
 * const x = tf.tensor3d([[[1, 2]], [[3, 4]]]); // 2 examples of shape [1, 2]
 * const m = toMatrix(x); // Right({ rows: 2, cols: 2, data: Float32Array [1, 2, 3, 4] })
 * x.dispose();
 * ```
 * @function
 */
export const toMatrix = guard('toMatrix', (t: tf.Tensor): E.Either<TransferError, Matrix> => {
  if (!isTensor(t)) return E.left(invalidArgument('tensor', 'a tf.Tensor', t));
  if (t.isDisposed) return E.left(invalidArgument('tensor', 'a live tensor', described('a disposed tensor')));
  if (t.rank < 1) return E.left(shapeMismatch('tensor', 'rank ≥ 1 ([examples, ...features])', `rank 0`));
  if (t.dtype === 'string' || t.dtype === 'complex64') {
    return E.left(invalidArgument('tensor.dtype', "'float32', 'int32' or 'bool'", t.dtype));
  }
  const rows = t.shape[0] ?? 0;
  const cols = t.shape.slice(1).reduce((a, b) => a * b, 1);
  return matrix(rows, cols, Float32Array.from(t.dataSync() as ArrayLike<number>));
});

/**
 * Makes a float32 tensor of shape [rows, cols] from a {@link Matrix}, checked as `matrix` checks
 * one (rows × cols finite values). The caller owns the result and must dispose it.
 *
 * @returns the tensor, or `InvalidArgument` / `ShapeMismatch` for a value that is not a matrix
 *
 * @example
 * ```ts
 * import '@tensorflow/tfjs-backend-cpu';
 * import { matrix } from 'transferkit';
 * import { fromMatrix } from 'transferkit/tfjs';
 * import { either as E } from 'fp-ts';
 *
 * const m = matrix(1, 3, new Float32Array([1, 2, 3]));
 * if (E.isRight(m)) {
 *   const t = fromMatrix(m.right);
 *   if (E.isRight(t)) t.right.dispose();
 * }
 * ```
 * @function
 */
export const fromMatrix = guard('fromMatrix', (m: Matrix): E.Either<TransferError, tf.Tensor2D> => {
  if (!isRecord(m)) return E.left(invalidArgument('matrix', 'a Matrix { rows, cols, data }', m));
  const checked = matrix(m.rows, m.cols, m.data);
  return E.isLeft(checked) ? checked : E.right(tf.tensor2d(checked.right.data, [checked.right.rows, checked.right.cols], 'float32'));
});

/**
 * A model's prediction for `x` as a {@link Matrix}: the output read and freed, a throw of the
 * model's a `BackendFailure` saying what was being done. `x` stays the caller's.
 */
export const predictedMatrix = (model: tfl.LayersModel, x: tf.Tensor, batchSize: number, doing: string): E.Either<TransferError, Matrix> => {
  try {
    const out = model.predict(x, { batchSize }) as tf.Tensor;
    try {
      return toMatrix(out);
    } finally {
      out.dispose();
    }
  } catch (thrown) {
    return E.left(backendFailure(doing, thrown));
  }
};
