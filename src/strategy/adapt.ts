/**
 * Domain adaptation: the source's task on a target domain whose inputs come without labels
 * (Pan & Yang's transductive setting). `adapt` runs one method over the same model interface and
 * runner as `transfer`, starting from the source model with its own classifier.
 */
import { either as E, type taskEither as TE } from 'fp-ts';
import { checkBackbone, type Backbone, type LayerInfo, type TransferModel } from '../core/backbone';
import { guardTask, isRecord, optionsAt } from '../core/boundary';
import { aborted, backendFailure, described, invalidArgument, notSupported, shapeMismatch, type TransferError } from '../core/errors';
import { checkLabels, type Labels } from '../core/labels';
import { deriveSeed } from '../core/random';
import type { Matrix } from '../core/matrix';
import { abortSignal, integer, oneOf, optional, positiveInteger } from '../core/validate';
import { coralMap } from '../metrics/coralMap';
import { importanceWeights } from '../metrics/importanceWeights';
import {
  ADAPT_LEARNING_RATE,
  ADAPT_METHODS,
  ADAPT_STEPS,
  adaptationPhase,
  BATCH_NORM_METHODS,
  IMPORTANCE_LEARNING_RATE,
  SOURCE_LABEL_METHODS,
  SOURCE_FREE_METHODS,
  sourceObjective,
  TENT_EPOCHS,
  TENT_LEARNING_RATE,
  TENT_OBJECTIVE,
  TRAINING_METHODS,
  type AdaptMethod,
} from './adaptMethods';
import { runAdaptationPhase } from './adaptSteps';
import { selfTrainRounds } from './selfTraining';


/** What `adapt` adapts with: unlabelled target inputs, and labelled source data where a method needs them. */
export interface AdaptData<X> {
  /** The target domain's data: its inputs alone. */
  readonly target: {
    /** The target's inputs, unlabelled, in the backend's form (for tfjs, a tensor with one example per row). */
    readonly x: X;
  };
  /**
   * The source's data, for the methods that need them: its inputs (CORAL reads only these) and
   * their labels, class ids of the source's classifier (importance weighting, Deep CORAL, MMD, DANN).
   */
  readonly source?: {
    /** The source's inputs, in the backend's form. */
    readonly x: X;
    /** Their labels: class ids of the source's classifier, or one-hot rows. */
    readonly y?: Labels;
  };
}

/** Where adaptation has got to; passed to `onProgress` after every step. */
export interface AdaptProgress {
  /** The method running. */
  readonly method: AdaptMethod;
  /** What it is doing, e.g. `"tent"` or `"self-training round 2"`. */
  readonly stage: string;
  /** 1-based step of the stage. */
  readonly step: number;
  /** How many steps the stage has. */
  readonly steps: number;
  /** The step's objective (nats). */
  readonly loss: number;
}

/** Options of {@link adapt}. */
export interface AdaptOptions {
  /** Examples per step (of each domain), and per batch while re-estimating statistics; default 64. */
  readonly batchSize?: number;
  /**
   * Optimisation steps of the methods that train; default: one pass over the target for TENT,
   * 3 × 100 for self-training (split over its rounds), 300 for Deep CORAL, MMD and DANN.
   */
  readonly steps?: number;
  /** Seeds batch orders, dropout and the domain classifier; default 0. */
  readonly seed?: number;
  /** Stops the work between two steps (or batches): the result is then `Aborted`. */
  readonly signal?: AbortSignal;
  /** Called after every step. */
  readonly onProgress?: (progress: AdaptProgress) => void;
  /**
   * For `pseudo-label`: the method whose model self-training starts from (its predictions give the
   * first pseudo-labels); default `adabn` where the backbone has BatchNorm, else `source-only`.
   * Any method but `pseudo-label` itself, with what it needs (`data.source` for the source-based ones).
   */
  readonly from?: AdaptMethod;
}

/** What {@link adapt} returns: the adapted model (the caller disposes it) and what the method did. */
export interface AdaptResult<M> {
  /** The adapted model: the source's layers and its classifier, adapted. */
  readonly model: M;
  /** The method that ran. */
  readonly method: AdaptMethod;
  /** How many classes the model predicts (the source's). */
  readonly classes: number;
  /** The layer the classifier reads (the backbone's top). */
  readonly tap: LayerInfo;
  /** BatchNorm layers whose statistics now come from the target (AdaBN, TENT, self-training). */
  readonly batchNormsReestimated: number;
  /** Optimisation steps taken (0 for source-only and AdaBN). */
  readonly steps: number;
  /** `done`, or `diverged`: a step's loss was not finite and the phase's starting weights were kept. */
  readonly stop: 'done' | 'diverged';
  /** For self-training: the method it started from. */
  readonly from?: AdaptMethod;
  /** For self-training: how many target rows each round labelled. */
  readonly pseudoLabelled?: ReadonlyArray<number>;
  /** For importance weighting: the weighted source's effective sample size (Kish). */
  readonly effectiveSourceSize?: number;
  /** Time taken, in ms. */
  readonly ms: number;
}

interface Checked<X> {
  readonly method: AdaptMethod;
  /** For pseudo-label: the method it starts from. */
  readonly from?: AdaptMethod;
  readonly targetCount: number;
  readonly source?: { readonly x: X; readonly count: number; readonly ids?: Int32Array };
  readonly classes: number;
  readonly tap: LayerInfo;
  readonly batchSize: number;
  readonly steps?: number;
  readonly seed: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: AdaptProgress) => void;
}

/** The fewest target inputs each method takes: one to predict; two for a batch's statistics; a class's worth for self-training. */
const minimumTarget = (method: AdaptMethod, classes: number): number => (method === 'source-only' ? 1 : method === 'pseudo-label' ? classes : 2);

const list = (methods: ReadonlyArray<AdaptMethod>): string => methods.map((m) => `'${m}'`).join(', ');

const checkAdapt = <X, M extends TransferModel<X>>(backbone: Backbone<X, M>, method: AdaptMethod, data: AdaptData<X>, options: AdaptOptions | undefined): E.Either<TransferError, Checked<X>> => {
  const b = checkBackbone('backbone', backbone);
  if (E.isLeft(b)) return b;
  const m = oneOf(ADAPT_METHODS)('method', method);
  if (E.isLeft(m)) return m;
  const o = optionsAt('options', options);
  if (E.isLeft(o)) return o;
  const batchSize = optional(positiveInteger, 64)('options.batchSize', o.right.batchSize);
  if (E.isLeft(batchSize)) return batchSize;
  const steps = optional(positiveInteger, undefined as number | undefined)('options.steps', o.right.steps);
  if (E.isLeft(steps)) return steps;
  const seed = optional(integer, 0)('options.seed', o.right.seed);
  if (E.isLeft(seed)) return seed;
  const signal = optional(abortSignal, undefined)('options.signal', o.right.signal);
  if (E.isLeft(signal)) return signal;
  const onProgress = o.right.onProgress;
  if (onProgress !== undefined && typeof onProgress !== 'function') return E.left(invalidArgument('options.onProgress', 'a function', onProgress));
  const bases = ADAPT_METHODS.filter((x) => x !== 'pseudo-label');
  if (o.right.from !== undefined && m.right !== 'pseudo-label') return E.left(invalidArgument('options.from', "nothing: only 'pseudo-label' starts from another method", o.right.from));
  const from = m.right === 'pseudo-label' ? optional(oneOf(bases), backbone.layers.some((l) => l.kind === 'BatchNormalization') ? ('adabn' as AdaptMethod) : 'source-only')('options.from', o.right.from) : E.right(undefined);
  if (E.isLeft(from)) return from;
  // What the run needs: the method's needs, and those of the method it starts from.
  const needs = from.right === undefined ? [m.right] : [m.right, from.right];
  const named = needs.map((x) => `'${x}'`).join(' from ');
  const last = backbone.layers[backbone.layers.length - 1]!;
  const tap = backbone.layers[backbone.top]!;
  const classes = last.outputShape[last.outputShape.length - 1];
  if (last.index === tap.index || typeof classes !== 'number' || classes < 2) {
    return E.left(notSupported('backbone', "a source model whose last layer is its classifier (the task adaptation keeps), above the backbone's top", `its last layer '${last.name}' (${last.kind})`));
  }
  if (needs.some((x) => BATCH_NORM_METHODS.includes(x)) && !backbone.layers.some((l) => l.kind === 'BatchNormalization')) {
    const apply = ADAPT_METHODS.filter((x) => !BATCH_NORM_METHODS.includes(x));
    return E.left(notSupported('method', `a backbone with BatchNormalization layers for ${named}; without them, ${list(apply)} apply`, 'a backbone with no BatchNormalization layer'));
  }
  if (needs.some((x) => TRAINING_METHODS.includes(x)) && !backbone.capabilities.fineTune) {
    return E.left(notSupported('method', `a backbone that can fine-tune for ${named}; ${list(ADAPT_METHODS.filter((x) => !TRAINING_METHODS.includes(x)))} do not train`, backbone.capabilities.description));
  }
  if (!isRecord(data) || !isRecord(data.target)) return E.left(invalidArgument('data', 'adaptation data { target: { x }, source?: { x, y } }', data));
  const n = backbone.count(data.target.x);
  if (E.isLeft(n)) return n;
  const least = minimumTarget(m.right, classes);
  if (n.right < least) return E.left(invalidArgument('data.target.x', `at least ${least} target inputs for '${m.right}'`, described(`${n.right}`)));
  const needsSource = needs.some((x) => !SOURCE_FREE_METHODS.includes(x));
  if (needsSource && data.source === undefined) {
    return E.left(invalidArgument('data.source', `source data { x, y } (${named} reads them); the source-free methods ${list(SOURCE_FREE_METHODS)} do not need them`, undefined));
  }
  let source: Checked<X>['source'];
  if (needsSource) {
    if (!isRecord(data.source)) return E.left(invalidArgument('data.source', 'source data { x, y }', data.source));
    const count = backbone.count(data.source.x);
    if (E.isLeft(count)) return count;
    if (count.right < 2) return E.left(invalidArgument('data.source.x', 'at least 2 source examples', described(`${count.right}`)));
    const needsLabels = needs.some((x) => SOURCE_LABEL_METHODS.includes(x));
    if (needsLabels && data.source.y === undefined) {
      return E.left(invalidArgument('data.source.y', `the source's labels (${named} trains on them); 'coral' needs only the source's inputs, and ${list(SOURCE_FREE_METHODS)} need no source data`, undefined));
    }
    const labels = needsLabels ? checkLabels(data.source.y!, classes, false) : undefined;
    if (labels !== undefined && E.isLeft(labels)) return labels;
    const ids = labels === undefined ? undefined : labels.right.ids;
    if (ids !== undefined && count.right !== ids.length) return E.left(shapeMismatch('data.source.y', `${count.right} labels (one per source input)`, `${ids.length} labels`));
    source = { x: data.source.x, count: count.right, ...(ids === undefined ? {} : { ids }) };
  }
  return E.right({
    method: m.right,
    ...(from.right === undefined ? {} : { from: from.right }),
    targetCount: n.right,
    ...(source === undefined ? {} : { source }),
    classes,
    tap,
    batchSize: batchSize.right,
    ...(steps.right === undefined ? {} : { steps: steps.right }),
    seed: seed.right,
    ...(signal.right === undefined ? {} : { signal: signal.right }),
    ...(onProgress === undefined ? {} : { onProgress }),
  });
};

type Outcome = Pick<AdaptResult<unknown>, 'batchNormsReestimated' | 'steps' | 'stop' | 'from' | 'pseudoLabelled' | 'effectiveSourceSize'>;

/** AdaBN on a model: its BatchNorm statistics from the target. */
const renormalize = async <X>(model: TransferModel<X>, target: X, c: Checked<X>): Promise<E.Either<TransferError, number>> => {
  if (typeof model.renormalize !== 'function') return E.left(notSupported('method', `a backend that can re-estimate BatchNorm statistics for '${c.method}'`, 'a model without renormalize'));
  return model.renormalize(target, { batchSize: c.batchSize, ...(c.signal === undefined ? {} : { signal: c.signal }) })();
};

const progress = (c: Checked<unknown>, stage: string, steps: number) => (step: number, loss: number) => c.onProgress?.({ method: c.method, stage, step: step + 1, steps, loss });

/** Self-training: the method it starts from first (AdaBN by default), then rounds of class-balanced pseudo-labels, each fine-tuning the whole network on them. */
const selfTrain = async <X, M extends TransferModel<X>>(backbone: Backbone<X, M>, model: M, target: X, c: Checked<X>): Promise<E.Either<TransferError, Outcome>> => {
  const base = await runMethod(backbone, model, target, { ...c, method: c.from! });
  if (E.isLeft(base)) return base;
  const rounds = await selfTrainRounds(model, target, { count: c.targetCount, batchSize: c.batchSize, seed: c.seed, ...(c.steps === undefined ? {} : { steps: c.steps }), ...(c.signal === undefined ? {} : { signal: c.signal }), onStep: (stage, steps) => progress(c, stage, steps) });
  if (E.isLeft(rounds)) return rounds;
  const { steps, stop, kept } = rounds.right;
  return E.right({ batchNormsReestimated: base.right.batchNormsReestimated, steps: base.right.steps + steps, stop: stop === 'diverged' ? 'diverged' : base.right.stop, from: c.from!, pseudoLabelled: kept });
};

/** Features at the tap of the source's and the target's inputs, from the unchanged backbone. */
const features = async <X, M extends TransferModel<X>>(backbone: Backbone<X, M>, target: X, c: Checked<X>): Promise<E.Either<TransferError, readonly [Matrix, Matrix]>> => {
  const how = { pooling: 'average' as const, batchSize: c.batchSize, ...(c.signal === undefined ? {} : { signal: c.signal }) };
  const s = await backbone.embed(c.source!.x, c.tap, how)();
  if (E.isLeft(s)) return s;
  const t = await backbone.embed(target, c.tap, how)();
  return E.map((tm: Matrix) => [s.right, tm] as const)(t);
};

/** CORAL in closed form: the target's features recoloured to the source's moments, folded into the source's classifier. */
const coralHead = async <X, M extends TransferModel<X>>(backbone: Backbone<X, M>, model: M, target: X, c: Checked<X>): Promise<E.Either<TransferError, Outcome>> => {
  if (typeof model.mapHeadInput !== 'function') return E.left(notSupported('method', "a backend whose models can map their head's input, for 'coral'", 'a model without mapHeadInput'));
  const f = await features(backbone, target, c);
  if (E.isLeft(f)) return f;
  const map = coralMap(f.right[0], f.right[1]);
  if (E.isLeft(map)) return map;
  return E.map((): Outcome => ({ batchNormsReestimated: 0, steps: 0, stop: 'done' }))(model.mapHeadInput(map.right.map, map.right.shift));
};

/** Importance weighting: the source's classifier retrained on source examples weighted by how target-like their features are. */
const weightSource = async <X, M extends TransferModel<X>>(backbone: Backbone<X, M>, model: M, target: X, c: Checked<X>): Promise<E.Either<TransferError, Outcome>> => {
  const f = await features(backbone, target, c);
  if (E.isLeft(f)) return f;
  const w = importanceWeights(f.right[0], f.right[1]);
  if (E.isLeft(w)) return w;
  const source = c.source as { x: X; ids: Int32Array };
  const steps = c.steps ?? ADAPT_STEPS;
  const phase = { ...adaptationPhase('importance-weighting', IMPORTANCE_LEARNING_RATE), trains: { kind: 'head-only' as const } };
  const run = await runAdaptationPhase(
    model,
    { phase, inputs: source.x, labels: source.ids, objective: { supervised: 1, exampleWeights: w.right.weights }, batchSize: c.batchSize, seed: deriveSeed(c.seed, 5), ...(c.signal === undefined ? {} : { signal: c.signal }) },
    steps,
    { labelled: source.ids.length, unlabelled: c.targetCount },
    progress(c, 'importance-weighting', steps),
  );
  return E.map((r: { steps: number; stop: 'steps' | 'diverged' }): Outcome => ({ batchNormsReestimated: 0, steps: r.steps, stop: r.stop === 'steps' ? 'done' : 'diverged', effectiveSourceSize: w.right.effectiveSize }))(run);
};

const runMethod = async <X, M extends TransferModel<X>>(backbone: Backbone<X, M>, model: M, target: X, c: Checked<X>): Promise<E.Either<TransferError, Outcome>> => {
  const signal = c.signal === undefined ? {} : { signal: c.signal };
  switch (c.method) {
    case 'source-only':
      return E.right({ batchNormsReestimated: 0, steps: 0, stop: 'done' });
    case 'adabn':
      return E.map((n: number): Outcome => ({ batchNormsReestimated: n, steps: 0, stop: 'done' }))(await renormalize(model, target, c));
    case 'tent': {
      const set = await renormalize(model, target, c);
      if (E.isLeft(set)) return set;
      const steps = c.steps ?? TENT_EPOCHS * Math.ceil(c.targetCount / c.batchSize);
      const run = await runAdaptationPhase(
        model,
        { phase: adaptationPhase('tent', TENT_LEARNING_RATE), inputs: target, labels: new Int32Array(c.targetCount), objective: TENT_OBJECTIVE, batchSize: c.batchSize, seed: deriveSeed(c.seed, 3), ...signal },
        steps,
        { labelled: c.targetCount, unlabelled: c.targetCount },
        progress(c, 'tent', steps),
      );
      return E.map((r: { steps: number; stop: 'steps' | 'diverged'; batchNormsReestimated: number }): Outcome => ({ batchNormsReestimated: Math.max(set.right, r.batchNormsReestimated), steps: r.steps, stop: r.stop === 'steps' ? 'done' : 'diverged' }))(run);
    }
    case 'pseudo-label':
      return selfTrain(backbone, model, target, c);
    case 'coral':
      return coralHead(backbone, model, target, c);
    case 'importance-weighting':
      return weightSource(backbone, model, target, c);
    case 'deep-coral':
    case 'mmd':
    case 'dann': {
      const source = c.source as { x: X; ids: Int32Array };
      const steps = c.steps ?? ADAPT_STEPS;
      const run = await runAdaptationPhase(
        model,
        { phase: adaptationPhase(c.method, ADAPT_LEARNING_RATE), inputs: source.x, labels: source.ids, unlabelled: target, objective: sourceObjective(c.method, steps), batchSize: c.batchSize, seed: deriveSeed(c.seed, 4), ...signal },
        steps,
        { labelled: source.ids.length, unlabelled: c.targetCount },
        progress(c, c.method, steps),
      );
      return E.map((r: { steps: number; stop: 'steps' | 'diverged' }): Outcome => ({ batchNormsReestimated: 0, steps: r.steps, stop: r.stop === 'steps' ? 'done' : 'diverged' }))(run);
    }
  }
};

/**
 * Adapts a source model to a target domain whose inputs have no labels: the source's task stays,
 * its inputs' distribution moved (covariate shift). The model starts as the source with its own
 * classifier, copied; the source is never changed.
 *
 * The methods:
 * - `source-only`: the copy as it is, the baseline every method is judged against;
 * - `adabn`: every BatchNorm's statistics re-estimated on the target (Li et al. 2016);
 * - `tent`: AdaBN, then the entropy of the target predictions minimised on BatchNorm's scale and
 *   offset, each batch normalised by its own statistics (Wang et al., ICLR 2021);
 * - `pseudo-label`: another method first (`options.from`; AdaBN by default, where there is
 *   BatchNorm), then three rounds of class-balanced self-training on the most confident target
 *   predictions (Zou et al., ECCV 2018);
 * - `coral`: CORAL in closed form (Sun, Feng & Saenko 2016): the target's features at the top,
 *   whitened and recoloured with the source's covariance and mean, folded into the source's
 *   classifier; nothing trains. Needs `data.source.x`;
 * - `importance-weighting`: the source's classifier retrained on source examples weighted by a
 *   domain classifier's density ratio (Shimodaira 2000), for covariate shift;
 * - `deep-coral`, `mmd`, `dann`: fine-tuning on the labelled source with a term that aligns the
 *   features of source and target batches: their covariances (Sun & Saenko 2016), a multi-kernel
 *   MMD (Long et al. 2015), or a domain classifier through a gradient reversal (Ganin &
 *   Lempitsky 2015). These and importance weighting need `data.source` with its labels.
 *
 * @function
 * @param backbone - the source model through a backend (e.g. `fromLayersModel`), whose last layer is its classifier
 * @param method - one of {@link ADAPT_METHODS}
 * @param data - `target.x` (unlabelled), and `source: { x, y }` for the methods that need it
 * @param options - batch size, steps, seed, abort signal, progress
 * @returns the adapted model (the caller disposes it) and what the method did; or a
 * `TransferError`: bad input before anything runs, `NotSupported` for a method the backbone
 * cannot serve (naming the methods that apply), `Aborted` on abort; nothing leaks on any path
 *
 * @example
 * ```ts
 * import { either as E } from 'fp-ts';
 * import { adapt, evaluate, type Backbone, type TransferModel } from 'transferkit';
 *
 * // The source model, with its classifier, through a backend: fromLayersModel(model) of 'transferkit/tfjs'.
 * export const adaptToTarget = async <X, M extends TransferModel<X>>(backbone: Backbone<X, M>, target: X, check: { x: X; y: number[] }) => {
 *   const adapted = await adapt(backbone, 'adabn', { target: { x: target } })();
 *   if (E.isLeft(adapted)) return adapted;
 *   const scores = await evaluate(adapted.right.model, check, adapted.right.classes)();
 *   adapted.right.model.dispose();
 *   return scores;
 * };
 * ```
 */
export const adapt = guardTask(
  'adapt',
  <X, M extends TransferModel<X>>(backbone: Backbone<X, M>, method: AdaptMethod, data: AdaptData<X>, options?: AdaptOptions): TE.TaskEither<TransferError, AdaptResult<M>> =>
    async () => {
      const checked = checkAdapt(backbone, method, data, options);
      if (E.isLeft(checked)) return checked;
      const c = checked.right;
      const started = performance.now();
      let model: M | undefined;
      try {
        if (c.signal?.aborted === true) return E.left(aborted(`the start of adaptation (${c.method})`));
        const built = await backbone.build({ tap: c.tap, head: { hidden: [], dropout: 0 }, classes: c.classes, pooling: 'average', start: 'pretrained', seed: c.seed, classifier: 'source' })();
        if (E.isLeft(built)) return built;
        model = built.right;
        const outcome = await runMethod(backbone, model, data.target.x, c);
        if (E.isLeft(outcome)) return outcome;
        const result: AdaptResult<M> = { model, method: c.method, classes: c.classes, tap: c.tap, ...outcome.right, ms: performance.now() - started };
        model = undefined;
        return E.right(result);
      } catch (thrown) {
        return E.left(backendFailure(`adapting (${c.method})`, thrown));
      } finally {
        model?.dispose();
      }
    },
);
