import { either as E, type taskEither as TE } from 'fp-ts';
import type { Backbone, LayerInfo, TransferModel } from '../core/backbone';
import { guardTask } from '../core/boundary';
import type { TransferError } from '../core/errors';
import type { Recipe, TrainablePolicy } from '../core/recipe';
import type { RankedLayer } from '../metrics/rankLayers';
import type { Divergence, EpochReport } from './epochs';
import { plan, type TransferData, type TransferOptions } from './plan';
import { runPlan } from './runPlan';

export type { PhaseOverride, Progress, TransferData, TransferOptions } from './plan';
export { DIVERGENCE_RATE_FACTOR, MAX_DIVERGENCES, type Divergence, type EpochReport } from './epochs';

/** One phase's history and timings (ms). */
export interface PhaseReport {
  /** The phase's name. */
  readonly name: string;
  /** What trained in it. */
  readonly trains: TrainablePolicy;
  /** Every epoch it ran, in order (the last one partial when a time budget ended it). */
  readonly epochs: ReadonlyArray<EpochReport>;
  /** Time spent computing cached activations of the frozen part. */
  readonly cacheMs: number;
  /** How many threads computed them (1: the caller's; more with transferkit/tfjs/threads). */
  readonly cacheThreads: number;
  /** How many threads shared each training step (1: the caller's alone). */
  readonly trainThreads: number;
  /** Time spent in the epochs. */
  readonly trainMs: number;
  /** Optimisation steps taken. */
  readonly steps: number;
  /**
   * Why the phase ended: it ran its epochs; it reached its time budget (`maxMs`,
   * `options.maxPhaseMs`) first; its validation loss stopped falling (`earlyStopping`); or it
   * diverged more often than the guard allows ({@link MAX_DIVERGENCES}), and ended on its best
   * checkpoint.
   */
  readonly stop: 'epochs' | 'time-budget' | 'early-stopping' | 'diverged';
  /** Each divergence the guard caught, in order; empty when the loss never blew up (or the guard is off). */
  readonly divergences: ReadonlyArray<Divergence>;
  /** The learning rate the phase ended at: its own, lowered after each divergence. */
  readonly learningRate: number;
  /**
   * Which weights the phase ended with: those of its last step, or its best checkpoint (when it
   * diverged for good, or its last validation loss was worse than its starting one, or its last
   * step left the loss not finite).
   */
  readonly weights: 'last' | 'best';
  /**
   * How many BatchNorm layers had their moving statistics re-estimated on the training examples
   * after the last step: every one a model from random weights has (0 for a pretrained start).
   */
  readonly batchNormsReestimated: number;
  /**
   * Examples per forward and backward pass: the batch size, or fewer where a whole batch's
   * activations would not fit the backend's memory (`options.memoryBytes`), the batch's gradients
   * then adding up over several passes.
   */
  readonly microBatch: number;
}

/** What {@link transfer} returns: the trained model (the caller disposes it) and its history. */
export interface TransferResult<M> {
  /** The trained model; the caller owns and disposes it. */
  readonly model: M;
  /** The recipe that ran, as checked. */
  readonly recipe: Recipe;
  /** The layer the head reads. */
  readonly tap: LayerInfo;
  /** For a `ranked` tap: every candidate with its LogME on the training examples, best (the tap) first. */
  readonly tapRanking?: ReadonlyArray<RankedLayer>;
  /** How many classes the head predicts. */
  readonly classes: number;
  /** What the backbone found odd in the inputs (values outside the model's declared range); empty when nothing. */
  readonly warnings: ReadonlyArray<string>;
  /** Each phase's epochs, timings, steps and why it stopped. */
  readonly history: ReadonlyArray<PhaseReport>;
}

/**
 * Runs a transfer recipe on a backbone: builds a copy of the backbone up to the tap with a new
 * head, then runs the recipe's phases in order. The source model is never changed. A recipe with
 * `start: 'random'` (the `fromScratch` baseline) copies only the architecture, with fresh seeded
 * weights, so the same call measures what transfer gained.
 *
 * A phase that freezes part of the backbone runs that part once per example, in inference mode
 * (BatchNorm on its moving statistics), and trains the rest on its cached output: head-only phases
 * train on cached embeddings, and a partial fine-tune runs its frozen prefix once too.
 *
 * @function
 * @param backbone - the pretrained model, through a backend (e.g. `fromLayersModel` of `transferkit/tfjs`)
 * @param recipe - one of the presets, a recipe from `selectStrategy`, or your own from `makeRecipe`
 * @param data - the labelled target examples: inputs `x` and labels `y` (class ids or one-hot rows)
 * @param options - batch size, epochs, a time budget per phase, validation, classes, pooling, seed, abort signal, progress
 * @returns the trained model (the caller disposes it) with its history, or a `TransferError`: bad
 * input is reported before anything trains; an abort returns `Aborted`; nothing leaks on any path
 *
 * @example
 * ```ts
 * import { either as E } from 'fp-ts';
 * import { evaluate, selectStrategy, transfer, type Backbone, type TransferModel } from 'transferkit';
 *
 * // A backbone comes from a backend: fromLayersModel(model) of 'transferkit/tfjs' (docs/strategies.md);
 * // the similarity is on measureTransferGain's scale (0.5: the source helps no more than random weights).
 * export const adapt = async <X, M extends TransferModel<X>>(backbone: Backbone<X, M>, x: X, y: number[], similarity: number) => {
 *   const recipe = selectStrategy({ size: y.length, similarity, classes: new Set(y).size });
 *   if (E.isLeft(recipe)) return recipe;
 *   const result = await transfer(backbone, recipe.right, { x, y }, { validation: { split: 0.2 }, seed: 1 })();
 *   if (E.isLeft(result)) return result;
 *   const scores = await evaluate(result.right.model, { x, y }, result.right.classes)();
 *   result.right.model.dispose();
 *   return scores;
 * };
 * ```
 */
export const transfer = guardTask(
  'transfer',
  <X, M extends TransferModel<X>>(backbone: Backbone<X, M>, recipe: Recipe, data: TransferData<X>, options?: TransferOptions<X>): TE.TaskEither<TransferError, TransferResult<M>> =>
  async () => {
    // Everything the caller passed is read and checked here, before anything is built: a value
    // that throws when read is the boundary's error, not a backend failure.
    const planned = plan(backbone, recipe, data, options);
    return E.isLeft(planned) ? planned : runPlan(backbone, planned.right);
  },
);
