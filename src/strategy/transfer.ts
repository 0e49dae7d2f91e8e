import { either as E, type taskEither as TE } from 'fp-ts';
import type { Backbone, LayerInfo, PhaseSession, TransferModel } from '../core/backbone';
import { guardTask } from '../core/boundary';
import { aborted, backendFailure, described, invalidArgument, thrownMessage, type TransferError } from '../core/errors';
import { deriveSeed, permutation, seededRandom } from '../core/random';
import type { Phase, Recipe, TrainablePolicy } from '../core/recipe';
import { plan, type CheckedOptions, type Plan, type Progress, type TransferData, type TransferOptions } from './plan';
import { yieldToEventLoop } from '../core/yieldToEventLoop';

export type { Progress, TransferData, TransferOptions } from './plan';

/** One epoch's numbers. */
export interface EpochReport {
  /** Mean training loss over the epoch's batches (nats), each measured before its update. */
  readonly loss: number;
  /** Training accuracy over the epoch's batches, in [0, 1]. */
  readonly accuracy: number;
  /** Loss on the validation data after the epoch, when there are any. */
  readonly validationLoss?: number;
  /** Accuracy on the validation data after the epoch, when there are any. */
  readonly validationAccuracy?: number;
}

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
   * `options.maxPhaseMs`) first; or its validation loss stopped falling (`earlyStopping`).
   */
  readonly stop: 'epochs' | 'time-budget' | 'early-stopping';
}

/** What {@link transfer} returns: the trained model (the caller disposes it) and its history. */
export interface TransferResult<M> {
  /** The trained model; the caller owns and disposes it. */
  readonly model: M;
  /** The recipe that ran, as checked. */
  readonly recipe: Recipe;
  /** The layer the head reads. */
  readonly tap: LayerInfo;
  /** How many classes the head predicts. */
  readonly classes: number;
  /** Each phase's epochs, timings, steps and why it stopped. */
  readonly history: ReadonlyArray<PhaseReport>;
}

const validationOutcome = <X>(session: PhaseSession, p: Plan<X>): E.Either<TransferError, { loss: number; accuracy: number } | undefined> => {
  const v = p.validation;
  if (v.kind === 'none') return E.right(undefined);
  const [set, indices] = v.kind === 'split' ? (['train', v.indices] as const) : (['validation', Int32Array.from({ length: v.count }, (_, i) => i)] as const);
  return E.map((o: { lossSum: number; correct: number }) => ({ loss: o.lossSum / indices.length, accuracy: o.correct / indices.length }))(
    session.evaluate(set, indices),
  );
};

/** The epochs a phase runs: its own, or more when that many batches would fall short of its `minSteps`. */
const epochsOf = (phase: Phase, batchesPerEpoch: number): number =>
  phase.minSteps === undefined ? phase.epochs : Math.max(phase.epochs, Math.ceil(phase.minSteps / batchesPerEpoch));

/** Training diverged: the loss (or, after the last step, the model's output) is not finite. */
const divergedAfterLastStep = (): TransferError =>
  backendFailure('a training step', new Error('the loss after the last step is not finite (training diverged: try a lower learning rate)'));

/** Calls the caller's progress callback; a throw from it ends the run with an error that says so. */
const report = <X>(options: CheckedOptions<X>, progress: Progress): E.Either<TransferError, void> => {
  try {
    options.onProgress?.(progress);
    return E.right(undefined);
  } catch (thrown) {
    return E.left(invalidArgument('options.onProgress', 'a progress callback that returns', described(`one that threw (${thrownMessage(thrown)})`)));
  }
};

/**
 * After a phase's last step: the loss on one training batch, in inference mode, must be finite.
 * The loss checked during training is the one before each update, so a last update that blows
 * the weights up would otherwise go unseen.
 */
const checkFinalLoss = <X>(session: PhaseSession, p: Plan<X>): E.Either<TransferError, void> => {
  const probe = session.evaluate('train', p.train.subarray(0, Math.min(p.batchSize, p.train.length)));
  if (E.isLeft(probe)) return probe;
  return Number.isFinite(probe.right.lossSum) ? E.right(undefined) : E.left(divergedAfterLastStep());
};

/** What a phase's epochs produced: their reports, the steps taken, and why they ended. */
interface EpochsRun {
  readonly epochs: EpochReport[];
  readonly steps: number;
  readonly stop: PhaseReport['stop'];
}

/** The phase's time budget: its own `maxMs` or the caller's `maxPhaseMs`, whichever is less. */
const budgetOf = (phase: Phase, maxPhaseMs: number | undefined): number => Math.min(phase.maxMs ?? Infinity, maxPhaseMs ?? Infinity);

/**
 * Runs one phase's epochs on an open session. The signal is read before every step, so none
 * starts after it fires. With a time budget, the phase ends after the step that reaches it; the
 * epoch it cuts short is reported over the batches it ran. With early stopping and validation
 * data, it ends after the epoch that finds `patience` steps since the best validation loss.
 */
const runEpochs = async <X>(session: PhaseSession, p: Plan<X>, phase: Phase, phaseIndex: number): Promise<E.Either<TransferError, EpochsRun>> => {
  const { signal } = p.options;
  const epochs: EpochReport[] = [];
  const batches = Math.ceil(p.train.length / p.batchSize);
  const total = epochsOf(phase, batches);
  const budget = budgetOf(phase, p.options.maxPhaseMs);
  const patience = p.validation.kind === 'none' ? undefined : phase.earlyStopping;
  let best = { loss: Infinity, step: 0 };
  const started = performance.now();
  let stop: PhaseReport['stop'] = 'epochs';
  let step = 0;
  for (let epoch = 1; epoch <= total && stop === 'epochs'; epoch++) {
    const order = permutation(p.train.length, seededRandom(deriveSeed(p.seed, 1000 * (phaseIndex + 1) + epoch)));
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    for (let b = 0; b < batches; b++) {
      if (signal?.aborted === true) return E.left(aborted(`phase ${phase.name}, epoch ${epoch}, batch ${b + 1}`));
      const batch = order.slice(b * p.batchSize, (b + 1) * p.batchSize).map((i) => p.train[i]!);
      const outcome = await session.step(batch, step++);
      if (E.isLeft(outcome)) return outcome;
      lossSum += outcome.right.lossSum;
      correct += outcome.right.correct;
      seen += batch.length;
      const progress = { phase: phase.name, phaseIndex, phases: p.recipe.phases.length, epoch, epochs: total, batch: b + 1, batches };
      const told = report(p.options, { ...progress, loss: lossSum / seen, accuracy: correct / seen });
      if (E.isLeft(told)) return told;
      if (performance.now() - started >= budget) {
        stop = 'time-budget';
        break;
      }
      await yieldToEventLoop();
    }
    if (signal?.aborted === true) return E.left(aborted(`phase ${phase.name}, the end of epoch ${epoch}`));
    const validation = validationOutcome(session, p);
    if (E.isLeft(validation)) return validation;
    const v = validation.right;
    epochs.push({ loss: lossSum / seen, accuracy: correct / seen, ...(v === undefined ? {} : { validationLoss: v.loss, validationAccuracy: v.accuracy }) });
    if (patience !== undefined && v !== undefined && stop === 'epochs') {
      if (v.loss < best.loss - (patience.minDelta ?? 0)) best = { loss: v.loss, step };
      else if (step - best.step >= patience.patience) stop = 'early-stopping';
    }
  }
  const final = checkFinalLoss(session, p);
  return E.isLeft(final) ? final : E.right({ epochs, steps: step, stop });
};

/** A phase that runs exactly `epochs` epochs: `options.epochs` replaces the recipe's epochs and its `minSteps`. */
const withEpochs = (phase: Phase, epochs: number): Phase => {
  const { minSteps: _dropped, ...rest } = phase;
  return { ...rest, epochs };
};

const runPhases = async <X, M extends TransferModel<X>>(model: M, p: Plan<X>): Promise<E.Either<TransferError, PhaseReport[]>> => {
  const { options } = p;
  const history: PhaseReport[] = [];
  for (const [phaseIndex, recipePhase] of p.recipe.phases.entries()) {
    const phase = options.epochs === undefined ? recipePhase : withEpochs(recipePhase, options.epochs);
    if (options.signal?.aborted === true) return E.left(aborted(`the start of phase ${phase.name}`));
    const session = await model.startPhase({
      phase,
      inputs: p.x,
      labels: p.ids,
      ...(p.validationSet === undefined ? {} : { validation: p.validationSet }),
      batchSize: p.batchSize,
      seed: deriveSeed(p.seed, 7 + phaseIndex),
      ...(options.activationStore === undefined ? {} : { store: options.activationStore }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    })();
    if (E.isLeft(session)) return session;
    const started = performance.now();
    try {
      const run = await runEpochs(session.right, p, phase, phaseIndex);
      if (E.isLeft(run)) return run;
      const { epochs, steps, stop } = run.right;
      const { cacheMs, cacheThreads, trainThreads } = session.right;
      history.push({ name: phase.name, trains: phase.trains, epochs, cacheMs, cacheThreads, trainThreads, trainMs: performance.now() - started, steps, stop });
    } finally {
      session.right.dispose();
    }
  }
  return E.right(history);
};

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
 * // A backbone comes from a backend: fromLayersModel(model) of 'transferkit/tfjs' (docs/strategies.md).
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
    const p = plan(backbone, recipe, data, options);
    if (E.isLeft(p)) return p;
    let model: M | undefined;
    try {
      const { recipe: r, tap, classes, seed } = p.right;
      const built = await backbone.build({ tap, head: r.head, classes, pooling: p.right.options.pooling, start: r.start, seed })();
      if (E.isLeft(built)) return built;
      model = built.right;
      const history = await runPhases(model, p.right);
      if (E.isLeft(history)) return history;
      const result = { model, recipe: p.right.recipe, tap: p.right.tap, classes: p.right.classes, history: history.right };
      model = undefined;
      return E.right(result);
    } catch (thrown) {
      return E.left(backendFailure('running the recipe', thrown));
    } finally {
      model?.dispose();
    }
  },
);
