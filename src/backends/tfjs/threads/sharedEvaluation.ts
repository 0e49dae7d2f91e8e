/**
 * One evaluated batch with its examples split between this thread and the worker threads' gradient
 * shares: the `evaluate` of the {@link GradientSharing} that transferkit/tfjs/threads gives a
 * session. A phase evaluates its validation set after every epoch and a probe of its training set
 * at its start and end, all on the caller's thread before (docs/performance.md, section 6).
 */
import { either as E } from 'fp-ts';
import type { BatchOutcome, InputSet } from '../../../core/backbone';
import { backendFailure, type TransferError } from '../../../core/errors';
import type { EvaluationResult, GradientShare, SessionInternals } from '../session/contracts';
import { readInto } from '../session/steps';

/**
 * The batch split in contiguous parts, as a shared step splits it: this thread evaluates the
 * first, each share one of the others, at the same time; the summed losses and correct counts
 * add up to the whole batch's. A share is sent the weights only when they changed since it last
 * got them (after a step, the update it did not see), so evaluating a set after an epoch sends
 * them once.
 */
export const sharedEvaluation = async (
  session: SessionInternals,
  shares: ReadonlyArray<GradientShare>,
  set: InputSet,
  indices: Int32Array,
): Promise<E.Either<TransferError, BatchOutcome>> => {
  const cached = session.sets[set];
  if (cached === undefined) return E.left(backendFailure('evaluating', new Error(`the phase has no ${set} set`)));
  const n = indices.length;
  const size = Math.ceil(n / (shares.length + 1));
  const pending: Array<Promise<EvaluationResult>> = [];
  /** The shares asked, in `pending`'s order. */
  const asked: number[] = [];
  try {
    const now = session.changes();
    shares.forEach((share, k) => {
      const part = indices.subarray((k + 1) * size, Math.min(n, (k + 2) * size));
      if (part.length === 0) return;
      const rows = cached.rows.map((r) => {
        const out = new Float32Array(part.length * r.store.rowSize);
        r.store.gather(part, out);
        return out;
      });
      let weights: Float32Array[] | undefined;
      if (session.sent[k] !== now) {
        const spare = session.spare[k];
        session.spare[k] = undefined;
        weights = session.variables.map((v, i) => readInto(v, spare?.[i]?.length === v.size ? spare[i]! : new Float32Array(v.size)));
        session.sent[k] = now;
      }
      asked.push(k);
      pending.push(share.evaluate({ ...(weights === undefined ? {} : { weights }), rows, count: part.length, labels: Int32Array.from(part, (i) => cached.labels[i]!) }));
    });
    // This thread's part, while the others evaluate theirs.
    const mine = session.ownOutcome(set, indices.subarray(0, size));
    const results = await Promise.all(pending);
    results.forEach((r, j) => {
      if (r.weights !== undefined) session.spare[asked[j]!] = r.weights;
    });
    return E.right({ lossSum: results.reduce((sum, r) => sum + r.lossSum, mine.lossSum), correct: results.reduce((sum, r) => sum + r.correct, mine.correct) });
  } catch (thrown) {
    session.sent.fill(undefined); // which weights a share holds after a failure is not known
    await Promise.allSettled(pending); // no share is left mid-request
    return E.left(backendFailure('evaluating', thrown));
  }
};
