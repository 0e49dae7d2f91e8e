/**
 * Domain adaptation: the source's task on a target domain whose inputs come without labels
 * (Pan & Yang's transductive setting). `adapt` runs one method over the same model interface and
 * runner as `transfer`, starting from the source model with its own classifier. Its checks are in
 * adaptChecks.ts, each method's run in adaptRun.ts.
 */
import { either as E, type taskEither as TE } from 'fp-ts';
import type { Backbone, LayerInfo, TransferModel } from '../core/backbone';
import { guardTask } from '../core/boundary';
import { aborted, backendFailure, type TransferError } from '../core/errors';
import type { Labels } from '../core/labels';
import { checkAdapt } from './adaptChecks';
import type { AdaptMethod } from './adaptMethods';
import { runMethod } from './adaptRun';

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
