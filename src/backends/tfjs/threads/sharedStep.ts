/**
 * One training step with the batch split between this thread and the worker threads' gradient
 * shares: the `step` of the {@link GradientSharing} that transferkit/tfjs/threads gives a session.
 */
import * as tf from '@tensorflow/tfjs-core';
import { either as E } from 'fp-ts';
import type { BatchOutcome } from '../../../core/backbone';
import { backendFailure, type TransferError } from '../../../core/errors';
import { deriveSeed } from '../../../core/random';
import type { GradientShare, SessionInternals, ShareResult } from '../session/contracts';
import { readInto, tensorOf } from '../session/steps';

/**
 * The batch split in contiguous parts: this thread computes the first, each share one of the
 * others, at the same time; the gradients add up to the whole batch's (each part's mean
 * cross-entropy weighted by its share of the rows; the L2 penalty once, here), and the optimizer
 * applies them once. Each part's dropout has its own seed.
 */
export const sharedStep = async (
  session: SessionInternals,
  shares: ReadonlyArray<GradientShare>,
  indices: Int32Array,
  stepNumber: number,
): Promise<E.Either<TransferError, BatchOutcome>> => {
  const n = indices.length;
  const size = Math.ceil(n / (shares.length + 1));
  const own = indices.subarray(0, size);
  const c = session.train;
  const seed = deriveSeed(session.seed, stepNumber);
  const pending: Array<Promise<ShareResult>> = [];
  /** The shares asked, in `pending`'s order. */
  const asked: number[] = [];
  try {
    shares.forEach((share, k) => {
      const part = indices.subarray((k + 1) * size, Math.min(n, (k + 2) * size));
      if (part.length === 0) return;
      const rows = c.rows.map((r) => {
        const out = new Float32Array(part.length * r.store.rowSize);
        r.store.gather(part, out);
        return out;
      });
      // Each share gets arrays of its own: the ones it returned last step, or new ones.
      const spare = session.spare[k];
      session.spare[k] = undefined;
      const weights = session.variables.map((v, i) => readInto(v, spare?.[i]?.length === v.size ? spare[i]! : new Float32Array(v.size)));
      session.sent[k] = session.changes();
      asked.push(k);
      pending.push(share.compute({ weights, rows, count: part.length, labels: Int32Array.from(part, (i) => c.labels[i]!), scale: part.length / n, seed: deriveSeed(seed, k + 1) }));
    });
    // This thread's part, while the others compute theirs.
    const mine = session.ownGradients(own, seed, own.length / n);
    let results: ShareResult[];
    try {
      results = await Promise.all(pending);
      tf.tidy(() => {
        const total: tf.NamedTensorMap = {};
        session.variables.forEach((v, i) => {
          total[v.name] = results.reduce((sum, r) => tf.add(sum, tensorOf(r.grads[i]!, v.shape)), mine.grads[v.name]!);
        });
        session.apply(total);
      });
      // Read into tensors above: the arrays go back to their shares as the next weights.
      results.forEach((r, j) => (session.spare[asked[j]!] = r.grads));
    } finally {
      tf.dispose(Object.values(mine.grads));
    }
    const lossSum = results.reduce((sum, r) => sum + r.lossSum, mine.lossSum);
    return E.right({ lossSum, correct: results.reduce((sum, r) => sum + r.correct, mine.correct) });
  } catch (thrown) {
    session.sent.fill(undefined); // which weights a share holds after a failure is not known
    await Promise.allSettled(pending); // no share is left mid-request
    return E.left(backendFailure('a training step', thrown));
  }
};
