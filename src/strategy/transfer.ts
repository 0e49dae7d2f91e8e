import { either as E, type taskEither as TE } from 'fp-ts';
import type { Backbone, LayerInfo, PhaseSession, Pooling, TransferModel } from '../core/backbone';
import { aborted, backendFailure, described, invalidArgument, notSupported, shapeMismatch, type TransferError } from '../core/errors';
import { checkLabels, type Labels } from '../core/labels';
import { deriveSeed, permutation, seededRandom } from '../core/random';
import { makeRecipe, type Phase, type Recipe, type TrainablePolicy } from '../core/recipe';
import { resolveTap } from '../core/resolveTap';
import { openUnitInterval, positiveInteger } from '../core/validate';
import { yieldToEventLoop } from './yieldToEventLoop';

/** Inputs and their labels. */
export interface TransferData<X> {
  readonly x: X;
  readonly y: Labels;
}

/** Where training has got to; passed to `onProgress` after every batch. */
export interface Progress {
  readonly phase: string;
  /** 0-based index of the phase, and how many there are. */
  readonly phaseIndex: number;
  readonly phases: number;
  /** 1-based epoch of the phase, and how many it has. */
  readonly epoch: number;
  readonly epochs: number;
  /** 1-based batch of the epoch, and how many it has. */
  readonly batch: number;
  readonly batches: number;
  /** Mean loss and accuracy over the epoch's batches so far. */
  readonly loss: number;
  readonly accuracy: number;
}

/** Options of {@link transfer}. */
export interface TransferOptions<X> {
  /** Examples per optimisation step, a positive integer. Default 32. */
  readonly batchSize?: number;
  /** Epochs of every phase, replacing the recipe's. Default: the recipe's own. */
  readonly epochs?: number;
  /** A seeded random fraction in (0, 1) of the data held out, or a separate set. Default: none. */
  readonly validation?: { readonly split: number } | { readonly data: TransferData<X> };
  /** Number of target classes, an integer ≥ 2. Default: inferred from the labels. */
  readonly classes?: number;
  /** How the tap's activations become a vector. Default `'average'` (global average for maps). */
  readonly pooling?: Pooling;
  /** Seeds the head's weights, shuffling, the validation split and dropout. Default 0. */
  readonly seed?: number;
  /** Stops training within one batch; the result is then `Left(Aborted)` and nothing leaks. */
  readonly signal?: AbortSignal;
  /** Called after every batch. */
  readonly onProgress?: (progress: Progress) => void;
}

/** One epoch's numbers. */
export interface EpochReport {
  readonly loss: number;
  readonly accuracy: number;
  readonly validationLoss?: number;
  readonly validationAccuracy?: number;
}

/** One phase's history and timings (ms). */
export interface PhaseReport {
  readonly name: string;
  readonly trains: TrainablePolicy;
  readonly epochs: ReadonlyArray<EpochReport>;
  /** Time spent computing cached activations of the frozen part. */
  readonly cacheMs: number;
  /** Time spent in the epochs. */
  readonly trainMs: number;
}

/** What {@link transfer} returns: the trained model (the caller disposes it) and its history. */
export interface TransferResult<M> {
  readonly model: M;
  readonly recipe: Recipe;
  /** The layer the head reads. */
  readonly tap: LayerInfo;
  readonly classes: number;
  readonly history: ReadonlyArray<PhaseReport>;
}

type Validation = { readonly kind: 'none' } | { readonly kind: 'split'; readonly indices: Int32Array } | { readonly kind: 'set'; readonly count: number };

interface Plan<X> {
  readonly recipe: Recipe;
  readonly ids: Int32Array;
  readonly classes: number;
  readonly train: Int32Array;
  readonly validation: Validation;
  readonly validationSet?: { readonly inputs: X; readonly labels: Int32Array };
  readonly tap: LayerInfo;
  readonly batchSize: number;
  readonly seed: number;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The recipe, re-derived and checked: its kind and trainable policy must be what its tap and phases make. */
const checkRecipe = (recipe: Recipe): E.Either<TransferError, Recipe> => {
  const derived = makeRecipe(recipe);
  if (E.isLeft(derived)) return derived;
  if (derived.right.kind !== recipe.kind) return E.left(invalidArgument('recipe.kind', `'${derived.right.kind}' (from its tap and phases)`, recipe.kind));
  if (!same(derived.right.trainable, recipe.trainable)) {
    return E.left(invalidArgument('recipe.trainable', `${JSON.stringify(derived.right.trainable)} (the widest phase)`, JSON.stringify(recipe.trainable)));
  }
  return derived;
};

const checkOptions = <X>(options: TransferOptions<X>): E.Either<TransferError, void> => {
  if (options.signal?.aborted === true) return E.left(aborted('the start (the signal was already aborted)'));
  const checks: Array<E.Either<TransferError, unknown>> = [
    positiveInteger('options.batchSize', options.batchSize ?? 32),
    options.epochs === undefined ? E.right(0) : positiveInteger('options.epochs', options.epochs),
    options.validation !== undefined && 'split' in options.validation ? openUnitInterval('options.validation.split', options.validation.split) : E.right(0),
    Number.isInteger(options.seed ?? 0) ? E.right(0) : E.left(invalidArgument('options.seed', 'an integer', options.seed)),
    ['average', 'flatten'].includes(options.pooling ?? 'average') ? E.right(0) : E.left(invalidArgument('options.pooling', "'average' or 'flatten'", options.pooling)),
  ];
  const bad = checks.find(E.isLeft);
  return bad === undefined ? E.right(undefined) : (bad as E.Left<TransferError>);
};

/** Counts inputs and checks that there is one label per input. */
const countMatching = <X, M extends TransferModel<X>>(backbone: Backbone<X, M>, path: string, x: X, labels: Int32Array): E.Either<TransferError, void> => {
  const n = backbone.count(x);
  if (E.isLeft(n)) return n;
  return n.right === labels.length ? E.right(undefined) : E.left(shapeMismatch(path, `${n.right} labels (one per input)`, `${labels.length} labels`));
};

const plan = <X, M extends TransferModel<X>>(
  backbone: Backbone<X, M>,
  recipeIn: Recipe,
  data: TransferData<X>,
  options: TransferOptions<X>,
): E.Either<TransferError, Plan<X>> => {
  const ok = checkOptions(options);
  if (E.isLeft(ok)) return ok;
  if (!backbone.isUsable()) return E.left(invalidArgument('backbone', 'a usable model', described('a disposed model')));
  const recipe = checkRecipe(recipeIn);
  if (E.isLeft(recipe)) return recipe;
  if (recipe.right.trainable.kind !== 'head-only' && !backbone.capabilities.fineTune) {
    return E.left(notSupported('recipe', 'a head-only recipe (this backbone cannot fine-tune)', `a ${recipe.right.kind} recipe on ${backbone.capabilities.description}`));
  }
  const labels = checkLabels(data.y, options.classes);
  if (E.isLeft(labels)) return labels;
  const { ids, classes } = labels.right;
  const counted = countMatching(backbone, 'y', data.x, ids);
  if (E.isLeft(counted)) return counted;
  const tap = resolveTap(backbone.layers, backbone.top, recipe.right.tap);
  if (E.isLeft(tap)) return tap;
  const seed = options.seed ?? 0;
  const common = { recipe: recipe.right, ids, classes, tap: tap.right, batchSize: options.batchSize ?? 32, seed };
  const v = options.validation;
  if (v === undefined) return E.right({ ...common, train: Int32Array.from(ids.keys()), validation: { kind: 'none' } });
  if ('split' in v) {
    const order = permutation(ids.length, seededRandom(deriveSeed(seed, 1)));
    const held = Math.ceil(v.split * ids.length);
    if (held >= ids.length) return E.left(invalidArgument('options.validation.split', `a split that leaves training examples (${ids.length} in all)`, v.split));
    return E.right({ ...common, train: order.slice(0, ids.length - held), validation: { kind: 'split', indices: order.slice(ids.length - held) } });
  }
  const vLabels = checkLabels(v.data.y, classes);
  if (E.isLeft(vLabels)) return E.left({ ...vLabels.left, message: `validation ${vLabels.left.message}` });
  const vCount = countMatching(backbone, 'validation.y', v.data.x, vLabels.right.ids);
  if (E.isLeft(vCount)) return vCount;
  return E.right({
    ...common,
    train: Int32Array.from(ids.keys()),
    validation: { kind: 'set', count: vLabels.right.ids.length },
    validationSet: { inputs: v.data.x, labels: vLabels.right.ids },
  });
};

const validationOutcome = <X>(session: PhaseSession, p: Plan<X>): E.Either<TransferError, { loss: number; accuracy: number } | undefined> => {
  const v = p.validation;
  if (v.kind === 'none') return E.right(undefined);
  const [set, indices] = v.kind === 'split' ? (['train', v.indices] as const) : (['validation', Int32Array.from({ length: v.count }, (_, i) => i)] as const);
  return E.map((o: { lossSum: number; correct: number }) => ({ loss: o.lossSum / indices.length, accuracy: o.correct / indices.length }))(
    session.evaluate(set, indices),
  );
};

/** Runs one phase's epochs on an open session. */
const runEpochs = async <X>(
  session: PhaseSession,
  p: Plan<X>,
  phase: Phase,
  phaseIndex: number,
  options: TransferOptions<X>,
): Promise<E.Either<TransferError, EpochReport[]>> => {
  const epochs: EpochReport[] = [];
  const batches = Math.ceil(p.train.length / p.batchSize);
  let step = 0;
  for (let epoch = 1; epoch <= phase.epochs; epoch++) {
    const order = permutation(p.train.length, seededRandom(deriveSeed(p.seed, 1000 * (phaseIndex + 1) + epoch)));
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    for (let b = 0; b < batches; b++) {
      const batch = order.slice(b * p.batchSize, (b + 1) * p.batchSize).map((i) => p.train[i]!);
      const outcome = session.step(batch, step++);
      if (E.isLeft(outcome)) return outcome;
      lossSum += outcome.right.lossSum;
      correct += outcome.right.correct;
      seen += batch.length;
      const progress = { phase: phase.name, phaseIndex, phases: p.recipe.phases.length, epoch, epochs: phase.epochs, batch: b + 1, batches };
      options.onProgress?.({ ...progress, loss: lossSum / seen, accuracy: correct / seen });
      await yieldToEventLoop();
      if (options.signal?.aborted === true) return E.left(aborted(`phase ${phase.name}, epoch ${epoch}, batch ${b + 1}`));
    }
    const validation = validationOutcome(session, p);
    if (E.isLeft(validation)) return validation;
    const v = validation.right;
    epochs.push({ loss: lossSum / seen, accuracy: correct / seen, ...(v === undefined ? {} : { validationLoss: v.loss, validationAccuracy: v.accuracy }) });
  }
  return E.right(epochs);
};

const runPhases = async <X, M extends TransferModel<X>>(model: M, data: TransferData<X>, p: Plan<X>, options: TransferOptions<X>): Promise<E.Either<TransferError, PhaseReport[]>> => {
  const history: PhaseReport[] = [];
  for (const [phaseIndex, recipePhase] of p.recipe.phases.entries()) {
    const phase = options.epochs === undefined ? recipePhase : { ...recipePhase, epochs: options.epochs };
    const session = await model.startPhase({
      phase,
      inputs: data.x,
      labels: p.ids,
      ...(p.validationSet === undefined ? {} : { validation: p.validationSet }),
      batchSize: p.batchSize,
      seed: deriveSeed(p.seed, 7 + phaseIndex),
    })();
    if (E.isLeft(session)) return session;
    const started = performance.now();
    try {
      const epochs = await runEpochs(session.right, p, phase, phaseIndex, options);
      if (E.isLeft(epochs)) return epochs;
      history.push({ name: phase.name, trains: phase.trains, epochs: epochs.right, cacheMs: session.right.cacheMs, trainMs: performance.now() - started });
    } finally {
      session.right.dispose();
    }
  }
  return E.right(history);
};

/**
 * Runs a transfer recipe on a backbone: builds a copy of the backbone up to the tap with a new
 * head, then runs the recipe's phases in order. The source model is never changed.
 *
 * A phase that freezes part of the backbone runs that part once per example, in inference mode
 * (BatchNorm on its moving statistics), and trains the rest on its cached output: head-only phases
 * train on cached embeddings, and a partial fine-tune runs its frozen prefix once too.
 *
 * @param backbone - the pretrained model, through a backend (e.g. `fromLayersModel` of `transferkit/tfjs`)
 * @param recipe - one of the presets, a recipe from `selectStrategy`, or your own from `makeRecipe`
 * @param data - the labelled target examples: inputs `x` and labels `y` (class ids or one-hot rows)
 * @param options - batch size, epochs, validation, classes, pooling, seed, abort signal, progress
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
export const transfer =
  <X, M extends TransferModel<X>>(
    backbone: Backbone<X, M>,
    recipe: Recipe,
    data: TransferData<X>,
    options: TransferOptions<X> = {},
  ): TE.TaskEither<TransferError, TransferResult<M>> =>
  async () => {
    let model: M | undefined;
    try {
      const p = plan(backbone, recipe, data, options);
      if (E.isLeft(p)) return p;
      const built = await backbone.build({ tap: p.right.tap, head: p.right.recipe.head, classes: p.right.classes, pooling: options.pooling ?? 'average', seed: p.right.seed })();
      if (E.isLeft(built)) return built;
      model = built.right;
      const history = await runPhases(model, data, p.right, options);
      if (E.isLeft(history)) return history;
      const result = { model, recipe: p.right.recipe, tap: p.right.tap, classes: p.right.classes, history: history.right };
      model = undefined;
      return E.right(result);
    } catch (thrown) {
      return E.left(backendFailure('running the recipe', thrown));
    } finally {
      model?.dispose();
    }
  };
