/**
 * One adaptation phase's steps on an open session: a seeded order over the labelled rows and
 * another over the unlabelled ones, one batch of each per step, abort and progress between
 * steps. A step whose loss is not finite puts back the weights the phase started with and ends it
 * (`stop: 'diverged'`): adaptation never returns a model its own objective blew up.
 */
import { either as E } from 'fp-ts';
import type { PhaseArgs, TransferModel } from '../core/backbone';
import { aborted, type TransferError } from '../core/errors';
import { deriveSeed, permutation, seededRandom } from '../core/random';
import { yieldToEventLoop } from '../core/yieldToEventLoop';

/** How an adaptation phase ended and what it took. */
export interface AdaptationPhaseRun {
  /** Optimisation steps taken. */
  readonly steps: number;
  /** Mean objective over the last tenth of the steps (nats). */
  readonly loss: number;
  /** `steps`: it ran them all; `diverged`: a loss was not finite, and the starting weights are back. */
  readonly stop: 'steps' | 'diverged';
  /** BatchNorm layers whose statistics were re-estimated after the steps. */
  readonly batchNormsReestimated: number;
}

/** Batches of `size` indices in [0, n), a fresh seeded order every pass. */
const batches = (n: number, size: number, seed: number): (() => Int32Array) => {
  let order: Int32Array = new Int32Array(0);
  let at = 0;
  let pass = 0;
  return () => {
    if (at + size > order.length) {
      order = permutation(n, seededRandom(deriveSeed(seed, pass++)));
      at = 0;
    }
    const take = Math.min(size, n);
    const out = order.subarray(at, at + take);
    at += take;
    return out;
  };
};

/** Runs `steps` steps of a phase (args as for `startPhase`), `unlabelledCount` rows in its unlabelled set (or its training rows'). */
export const runAdaptationPhase = async <X>(
  model: TransferModel<X>,
  args: PhaseArgs<X>,
  steps: number,
  counts: { readonly labelled: number; readonly unlabelled: number },
  onStep?: (step: number, loss: number) => void,
): Promise<E.Either<TransferError, AdaptationPhaseRun>> => {
  const session = await model.startPhase(args)();
  if (E.isLeft(session)) return session;
  const s = session.right;
  try {
    const kept = s.checkpoint();
    if (E.isLeft(kept)) return kept;
    const nextLabelled = batches(counts.labelled, args.batchSize, deriveSeed(args.seed, 1));
    const nextUnlabelled = batches(counts.unlabelled, args.batchSize, deriveSeed(args.seed, 2));
    const tail: number[] = [];
    let stop: AdaptationPhaseRun['stop'] = 'steps';
    let taken = 0;
    for (; taken < steps; taken++) {
      if (args.signal?.aborted === true) return E.left(aborted(`adaptation phase ${args.phase.name}, step ${taken + 1} of ${steps}`));
      const labelled = nextLabelled();
      const outcome = await s.step(labelled, taken, nextUnlabelled());
      if (E.isLeft(outcome)) return outcome;
      const loss = outcome.right.lossSum / labelled.length;
      if (!Number.isFinite(loss)) {
        const back = s.restore();
        if (E.isLeft(back)) return back;
        stop = 'diverged';
        break;
      }
      if (taken >= steps - Math.max(1, Math.ceil(steps / 10))) tail.push(loss);
      onStep?.(taken, loss);
      await yieldToEventLoop();
    }
    const all = Int32Array.from({ length: counts.labelled }, (_, i) => i);
    const finished = stop === 'diverged' ? E.right(0) : (s.finish?.(all) ?? E.right(0));
    if (E.isLeft(finished)) return finished;
    const loss = tail.length === 0 ? Number.NaN : tail.reduce((a, b) => a + b, 0) / tail.length;
    return E.right({ steps: taken, loss, stop, batchNormsReestimated: finished.right });
  } finally {
    s.dispose();
  }
};
