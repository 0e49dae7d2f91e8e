/**
 * `measureTransferGain`: whether the source's weights help this target's task, measured on the
 * target's own labels. The source fine-tuned (head first, then everything) and the same
 * architecture from random weights each train a short, equal share of their schedules on a
 * stratified fold, and both are scored on its held-out rows; on small data, on every fold in turn,
 * so that every labelled row is scored once.
 * A pretrained start that is worth nothing here scores as the random one does, whether or not the
 * inputs look alike: this is the "short fine-tuning probe" of issue #16, in the spirit of
 * Rosenstein et al., "To transfer or not to transfer" (NIPS 2005 workshop): transfer is judged by
 * what it does to learning the target.
 */
import { either as E, type taskEither as TE } from 'fp-ts';
import type { Backbone, TransferModel } from '../../core/backbone';
import { guardTask, isRecord, optionsAt } from '../../core/boundary';
import { invalidArgument, within, type TransferError } from '../../core/errors';
import { checkLabels } from '../../core/labels';
import { deriveSeed } from '../../core/random';
import { integerIn, optional, positiveInteger, unitIntervalOpenBelow } from '../../core/validate';
import { plan, type TransferData, type TransferOptions } from '../plan';
import { fromScratch, fullFineTune } from '../presets';
import { stratifiedFolds } from './folds';
import { gainSimilarity, similarityInterval } from './interval';
import { lastAccuracy, lastLoss, runRungs, type Racer } from './race';

export { PROBE_CONFIDENCE_Z } from './interval';

/** The share of each schedule the probe trains by default: an eighth (the two runs come to about half a full fine-tune on small data, by the race's cost model). */
export const PROBE_FRACTION = 0.125;
/** Folds the probe's data are split into. */
export const PROBE_FOLDS = 3;

/**
 * Below this many labelled examples per class (on average) the probe trains and scores on every
 * one of its {@link PROBE_FOLDS} folds in turn, so that every labelled row is scored once; from it
 * on, on the first fold alone. A fold holds out a third of the rows: 9 images at 5 per class and 34
 * at 20 on the grid of #16, where one image moves the similarity by 0.056 and 0.015, against a
 * from-scratch threshold 0.04 below 0.5; at 100 per class a fold scores 167. On that grid (236
 * cells, and again on 269) every fold below 30 per class ranked the cells' gain of transfer better
 * (Spearman ρ 0.66 against 0.55 on 269), and the threshold rule on it left one domain out scored
 * 1.4 points of regret mean and 14.6 worst, against 1.8 and 20.0 on one fold (docs/study.md,
 * which also says where the one fold did as well); every fold also gives the interval three times
 * the rows. The threshold sits between the grid's sizes 20 and 100.
 */
export const PROBE_EVERY_FOLD_BELOW = 30;

/** Options of {@link measureTransferGain}: `transfer`'s that apply to both runs, and how long they train. */
export interface TransferGainOptions<X> extends Pick<TransferOptions<X>, 'batchSize' | 'classes' | 'pooling' | 'seed' | 'signal' | 'activationStore' | 'memoryBytes'> {
  /** The share of each schedule both runs train, in (0, 1]; default {@link PROBE_FRACTION}. */
  readonly fraction?: number;
  /**
   * On how many of the {@link PROBE_FOLDS} folds both train and are scored, each on its own held-out
   * rows, pooled (1–3). By default all three below {@link PROBE_EVERY_FOLD_BELOW} examples per
   * class, else one.
   */
  readonly folds?: number;
}

/** One side of the probe, scored on the held-out rows. */
export interface ProbeSide {
  /** Accuracy in [0, 1]. */
  readonly accuracy: number;
  /** Mean cross-entropy, nats. */
  readonly loss: number;
  /** Wall time, ms. */
  readonly ms: number;
}

/** What {@link measureTransferGain} measured. */
export interface TransferGain {
  /**
   * In [0, 1]: `(1 + pretrained.accuracy − random.accuracy) / 2`. 0.5 when the source's weights
   * neither help nor hurt, 1 when the fine-tuned source gets every held-out example right and the
   * random start none, 0 the other way round. On the calibration grid of #16 this accuracy gap
   * predicted the gain of transfer better than the ratio of the two losses, LogME's gain over
   * random weights and 1 − PAD/2 (docs/study.md). It is the scale `selectStrategy`'s constants
   * were fitted on: pass this result to it as is.
   */
  readonly similarity: number;
  /**
   * How far the similarity can be trusted: an interval on its scale, each end a one-sided 95 %
   * bound (Agresti & Caffo 2000; see {@link PROBE_CONFIDENCE_Z}). On 25 held-out images it reaches
   * up to ±0.11 about the middle; on 500, ±0.03. `selectStrategy` trains from scratch only when
   * `high` is below 0.5: a reading below 0.5 whose interval reaches above it says the probe could
   * not tell.
   */
  readonly interval: {
    /** The lower end, in [0, 1]. */
    readonly low: number;
    /** The upper end, in [0, 1], at least `low`. */
    readonly high: number;
  };
  /** The source fine-tuned: a head phase, then the whole backbone. */
  readonly pretrained: ProbeSide;
  /** The same architecture from random weights. */
  readonly random: ProbeSide;
  /** Held-out rows both were scored on, over every fold they ran on. */
  readonly scored: number;
  /** Folds they trained and were scored on (the accuracies and losses are over all their held-out rows). */
  readonly folds: number;
  /** The share of each schedule they trained. */
  readonly fraction: number;
}

/**
 * Measures how much the source's weights help learn the target's task: a short full fine-tune and
 * a short training of the same architecture from random weights, on the same rows, scored on the
 * same held-out rows (see {@link TransferGain.similarity}). It costs about half a full fine-tune a
 * fold: all three folds below {@link PROBE_EVERY_FOLD_BELOW} examples per class, else one.
 *
 * @function
 * @param backbone - the pretrained model through a backend that can fine-tune
 * @param data - labelled target examples: at least 2 classes with at least 2 examples each
 * @param options - how long both train (`fraction`), on how many folds (`folds`), batch size, classes, pooling, seed, abort signal, activation store, memory
 * @returns the similarity with both sides' accuracy and loss; or a `TransferError`: a class too
 * small to split (naming the minimum), one class only (nothing to measure), a backbone that
 * cannot fine-tune, an abort
 */
export const measureTransferGain = guardTask(
  'measureTransferGain',
  <X, M extends TransferModel<X>>(backbone: Backbone<X, M>, data: TransferData<X>, options?: TransferGainOptions<X>): TE.TaskEither<TransferError, TransferGain> =>
    async () => {
      const given = optionsAt('options', options);
      if (E.isLeft(given)) return given;
      const batch = optional(positiveInteger, 32)('options.batchSize', given.right.batchSize);
      if (E.isLeft(batch)) return batch;
      const fraction = optional(unitIntervalOpenBelow, PROBE_FRACTION)('options.fraction', given.right.fraction);
      if (E.isLeft(fraction)) return fraction;
      const askedFolds = optional(integerIn(1, PROBE_FOLDS), undefined)('options.folds', given.right.folds);
      if (E.isLeft(askedFolds)) return askedFolds;
      if (!isRecord(data)) return E.left(invalidArgument('data', 'labelled data { x, y }', data));
      const labels = checkLabels(data.y, given.right.classes);
      if (E.isLeft(labels)) return E.left(within('data', labels.left));
      const { ids, classes } = labels.right;
      if (classes < 2 || new Set(ids).size < 2) return E.left(invalidArgument('data.y', 'labels of at least 2 classes (with one class there is no task to measure)', `${new Set(ids).size} class`));
      const { fraction: _f, folds: _k, ...transferOptions } = given.right;
      const shared = { ...transferOptions, batchSize: batch.right, classes };
      for (const recipe of [fullFineTune, fromScratch]) {
        const ok = plan(backbone, recipe, data, shared);
        if (E.isLeft(ok)) return ok;
      }
      const seed = shared.seed ?? 0;
      const folds = stratifiedFolds(ids, classes, PROBE_FOLDS, deriveSeed(seed, 41));
      if (E.isLeft(folds)) return folds;
      const count = askedFolds.right ?? (ids.length < PROBE_EVERY_FOLD_BELOW * classes ? PROBE_FOLDS : 1);
      // A race of one rung on the first `count` folds, each fold in turn: the sides pool their rows.
      const racers: Racer[] = [fullFineTune, fromScratch].map((recipe) => ({ name: recipe.kind, recipe, cost: 0, runs: [] }));
      const ran = await runRungs({ backbone, data, classes, folds: folds.right.slice(0, count), everyFold: true, batchSize: batch.right, options: shared }, racers, [fraction.right], ids);
      if (E.isLeft(ran)) return ran;
      const side = (r: Racer): ProbeSide => ({ accuracy: lastAccuracy(r), loss: lastLoss(r), ms: r.runs.reduce((s, run) => s + run.ms, 0) });
      const [pretrained, random] = racers.map(side) as [ProbeSide, ProbeSide];
      const scored = racers[0]!.correct?.length ?? 0;
      return E.right({
        similarity: gainSimilarity(pretrained.accuracy, random.accuracy),
        interval: similarityInterval(pretrained.accuracy, random.accuracy, scored),
        pretrained,
        random,
        scored,
        folds: count,
        fraction: fraction.right,
      });
    },
);
