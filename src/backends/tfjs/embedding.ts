/**
 * Embedding with any runnable prefix (a compiled LayersModel prefix, a GraphModel run to some
 * nodes): each output pooled to one row per example, a batch at a time, so memory holds one
 * batch of activations beyond the result.
 */
import * as tf from '@tensorflow/tfjs-core';
import { either as E } from 'fp-ts';
import type { EmbedOptions, Pooling } from '../../core/backbone';
import { aborted, type TransferError } from '../../core/errors';
import { matrix, type Matrix } from '../../core/matrix';
import { forEachBatchUntil, Stopped, type CompiledPrefix } from './compile';
import type { InputRows } from './inputRows';

/** One batch of activations as rows: kept for rank 2, flattened, or averaged over the spatial axes. */
export const poolRows = (a: tf.Tensor, pooling: Pooling): tf.Tensor2D =>
  tf.tidy(() => (a.rank === 2 ? a.clone() : pooling === 'flatten' ? tf.reshape(a, [a.shape[0]!, -1]) : tf.mean(a, a.rank === 4 ? [1, 2] : [1])) as tf.Tensor2D);

/**
 * Runs `prefix` over the inputs and pools each of its outputs into a matrix (in the prefix's
 * output order); `what` names the outputs in the `Aborted` message. Other failures are thrown.
 */
export const embedWith = async (prefix: CompiledPrefix, x: InputRows, what: string, { pooling, batchSize, signal }: EmbedOptions): Promise<E.Either<TransferError, Matrix[]>> => {
  const n = x.count;
  const cols: number[] = [];
  const data: Float32Array[] = [];
  try {
    await forEachBatchUntil(prefix, x, batchSize, signal, (activations, start) => {
      activations.forEach((a, k) => {
        const rows = poolRows(a, pooling);
        try {
          if (start === 0) {
            cols[k] = rows.shape[1];
            data[k] = new Float32Array(n * cols[k]!);
          }
          data[k]!.set(rows.dataSync() as Float32Array, start * cols[k]!);
        } finally {
          rows.dispose();
        }
      });
    });
  } catch (thrown) {
    if (thrown instanceof Stopped) return E.left(aborted(`embedding at ${what}, batch ${thrown.done + 1} of ${thrown.of}`));
    throw thrown;
  }
  const out: Matrix[] = [];
  for (const [k, d] of data.entries()) {
    const m = matrix(n, cols[k]!, d);
    if (E.isLeft(m)) return m;
    out.push(m.right);
  }
  return E.right(out);
};
