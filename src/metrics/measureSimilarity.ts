import { either as E, function as F, type taskEither as TE } from 'fp-ts';
import { checkBackbone, checkEmbedOptions, type Backbone, type Pooling, type TransferModel } from '../core/backbone';
import { guardTask, optionsAt } from '../core/boundary';
import { within, type TransferError } from '../core/errors';
import type { ShiftTest } from '../core/evidence';
import type { Tap } from '../core/recipe';
import { resolveTap } from '../core/resolveTap';
import { integer, integerIn, openUnitInterval, optional } from '../core/validate';
import { MAX_PERMUTATIONS, mmd } from './mmd';
import { proxyADistance } from './proxyADistance';

/** A similarity measured between source and target samples, with what it rests on. */
export interface MeasuredSimilarity {
  /** In [0, 1]: 1 − PAD / 2, so 1 when a linear classifier cannot tell the samples apart, 0 when it always can. */
  readonly similarity: number;
  /** The proxy A-distance behind it, in [0, 2]. */
  readonly proxyADistance: number;
  /** The MMD² two-sample test: evidence for `classifyScenario({ marginal })`. */
  readonly marginalShift: ShiftTest;
  /** The layer whose activations were compared. */
  readonly layer: string;
}

/** Options of {@link measureSimilarity}. */
export interface MeasureSimilarityOptions {
  /** The layer to compare at. Default: the top feature layer. */
  readonly at?: Tap;
  /** Default 'average'. */
  readonly pooling?: Pooling;
  /** Permutations of the MMD test, an integer from 0 to 100,000. Default 200. */
  readonly permutations?: number;
  /** Significance level of the MMD test, in (0, 1). Default 0.05. */
  readonly alpha?: number;
  /** Seeds the PAD split and the permutations, an integer. Default 0. */
  readonly seed?: number;
  /** Examples per embedding batch, a positive integer. Default 256. */
  readonly batchSize?: number;
  /** Stops the embedding between two batches; the result is then `Aborted`. */
  readonly signal?: AbortSignal;
}

/**
 * Measures how alike source and target data look to a backbone: both samples are embedded at a
 * layer, then compared by the proxy A-distance (mapped to a similarity in [0, 1]) and by an MMD²
 * permutation test (the evidence `classifyScenario` reads for P(X)).
 *
 * @remarks The mapping is similarity = 1 − PAD/2 = 2ε for the held-out balanced error ε ≤ 0.5 of a
 * linear domain classifier (Ben-David et al. 2006): 1 when it does no better than chance, 0 when it
 * separates the samples perfectly. It reflects what a linear head on these features would see; a
 * sample too small to train the classifier makes it noisy (use at least ~50 examples per side).
 * It says how easily a shift is detected, not whether the source still helps the target's task:
 * on two targets issue #16 was filed from it read 0, where a full fine-tune beat training from
 * scratch by up to 12 points on one and lost by up to 18 on the other. `selectStrategy` takes `measureTransferGain`'s similarity instead, and
 * refuses this result.
 *
 * @example
 * ```ts
 * import { measureSimilarity, type Backbone, type TransferModel } from 'transferkit';
 * import { either as E } from 'fp-ts';
 *
 * // Whether the target's inputs drifted from the source's at the top feature layer (MMD², 5 % level).
 * export const drifted = async <X, M extends TransferModel<X>>(backbone: Backbone<X, M>, source: X, target: X) => {
 *   const measured = await measureSimilarity(backbone, source, target)();
 *   return E.isLeft(measured) ? measured : E.right(measured.right.marginalShift.pValue < 0.05);
 * };
 * ```
 * @function
 */
export const measureSimilarity = guardTask(
  'measureSimilarity',
  <X, M extends TransferModel<X>>(backbone: Backbone<X, M>, source: X, target: X, options?: MeasureSimilarityOptions): TE.TaskEither<TransferError, MeasuredSimilarity> =>
  async () => {
    // Every option is checked before anything is embedded.
    const checked = F.pipe(
      optionsAt('options', options),
      E.bindTo('o'),
      E.bind('how', ({ o }) => checkEmbedOptions(o)),
      E.bind('permutations', ({ o }) => optional(integerIn(0, MAX_PERMUTATIONS), 200)('options.permutations', o.permutations)),
      E.bind('alpha', ({ o }) => optional(openUnitInterval, 0.05)('options.alpha', o.alpha)),
      E.bind('seed', ({ o }) => optional(integer, 0)('options.seed', o.seed)),
      E.bind('backbone', () => checkBackbone('backbone', backbone)),
      E.bind('layer', ({ o, backbone: bb }) => resolveTap(bb.layers, bb.top, o.at ?? { kind: 'top' })),
    );
    if (E.isLeft(checked)) return checked;
    const { how, permutations, alpha, seed, layer } = checked.right;
    const a = await checked.right.backbone.embed(source, layer, how)();
    if (E.isLeft(a)) return E.left(within('source', a.left));
    const b = await checked.right.backbone.embed(target, layer, how)();
    if (E.isLeft(b)) return E.left(within('target', b.left));
    const pad = proxyADistance(a.right, b.right, { seed });
    if (E.isLeft(pad)) return pad;
    const test = mmd(a.right, b.right, { permutations, seed });
    if (E.isLeft(test)) return test;
    return E.right({
      similarity: 1 - pad.right.value / 2,
      proxyADistance: pad.right.value,
      marginalShift: { statistic: 'mmd2', value: test.right.value, pValue: test.right.pValue ?? 1, alpha },
      layer: layer.name,
    });
  },
);
