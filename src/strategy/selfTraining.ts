/**
 * Class-balanced self-training rounds on a model that already predicts the target (Zou et al.,
 * "Unsupervised Domain Adaptation for Semantic Segmentation via Class-Balanced Self-Training",
 * ECCV 2018): each round labels the most confident share of the target, a quota per class, and
 * fine-tunes the whole network on those labels. `adapt`'s `pseudo-label` runs them after the method
 * it starts from; `autoAdapt` after the method it chose.
 */
import { either as E } from 'fp-ts';
import type { TransferModel } from '../core/backbone';
import type { TransferError } from '../core/errors';
import { deriveSeed } from '../core/random';
import { ADAPT_LEARNING_RATE, adaptationPhase, PSEUDO_LABEL_FRACTIONS, PSEUDO_LABEL_STEPS, pseudoLabels } from './adaptMethods';
import { runAdaptationPhase } from './adaptSteps';

/** How the rounds run. */
export interface SelfTrainingRun {
  /** Target inputs. */
  readonly count: number;
  readonly batchSize: number;
  readonly seed: number;
  /** Steps over all rounds (split evenly); default {@link PSEUDO_LABEL_STEPS} per round. */
  readonly steps?: number;
  readonly signal?: AbortSignal;
  /** Progress: the stage's name and steps give a per-step callback. */
  readonly onStep?: (stage: string, steps: number) => (step: number, loss: number) => void;
}

/** What the rounds did: steps taken, whether one diverged (its starting weights kept), how many rows each round labelled. */
export interface SelfTrainingOutcome {
  readonly steps: number;
  readonly stop: 'done' | 'diverged';
  readonly kept: ReadonlyArray<number>;
}

export const selfTrainRounds = async <X>(model: TransferModel<X>, target: X, run: SelfTrainingRun): Promise<E.Either<TransferError, SelfTrainingOutcome>> => {
  const perRound = run.steps === undefined ? PSEUDO_LABEL_STEPS : Math.max(1, Math.round(run.steps / PSEUDO_LABEL_FRACTIONS.length));
  const kept: number[] = [];
  let steps = 0;
  for (const [round, fraction] of PSEUDO_LABEL_FRACTIONS.entries()) {
    const p = await model.predict(target, { batchSize: run.batchSize })();
    if (E.isLeft(p)) return p;
    const { labels, weights, kept: count } = pseudoLabels(p.right.data, p.right.rows, p.right.cols, fraction);
    kept.push(count);
    if (count === 0) break;
    const stage = `self-training round ${round + 1}`;
    const done = await runAdaptationPhase(
      model,
      { phase: adaptationPhase(stage, ADAPT_LEARNING_RATE), inputs: target, labels, objective: { supervised: 1, exampleWeights: weights }, batchSize: run.batchSize, seed: deriveSeed(run.seed, 10 + round), ...(run.signal === undefined ? {} : { signal: run.signal }) },
      perRound,
      { labelled: run.count, unlabelled: run.count },
      run.onStep?.(stage, perRound),
    );
    if (E.isLeft(done)) return done;
    steps += done.right.steps;
    if (done.right.stop === 'diverged') return E.right({ steps, stop: 'diverged', kept });
  }
  return E.right({ steps, stop: 'done', kept });
};
