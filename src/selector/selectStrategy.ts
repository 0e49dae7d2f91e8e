import { either as E } from 'fp-ts';
import { guard, isRecord } from '../core/boundary';
import { adaptationAdvice } from '../core/adaptationMethods';
import { described, invalidArgument, notSupported, type TransferError } from '../core/errors';
import { fineTunePhase, fineTuneRateFactor, headPhase, SCRATCH_MAX_MS, scratchPhase } from '../core/phases';
import { makeRecipe, type Recipe, type Tap, type TrainablePolicy } from '../core/recipe';
import { nonNegativeInteger, unitInterval } from '../core/validate';
import {
  EARLIEST_TAP_DEPTH,
  FEW_EXAMPLES_PER_CLASS,
  FINE_TUNE_MIN_EXAMPLES_PER_CLASS,
  FRACTION_STEP,
  FULL_FINE_TUNE_FRACTION,
  FULL_FINE_TUNE_MAX_SIMILARITY,
  LARGE_EXAMPLES_PER_CLASS,
  MIN_FINE_TUNE_FRACTION,
  NEGATIVE_TRANSFER_SIMILARITY,
  NO_GAIN_SIMILARITY,
  SIMILAR_LARGE_FRACTION,
  TOP_TAP_MIN_SIMILARITY,
} from './constants';

/** Arguments of {@link selectStrategy}. */
export interface SelectStrategyArgs {
  /** Labelled target examples in all, a non-negative integer. */
  readonly size: number;
  /**
   * How much the source's weights help on the target, in [0, 1], on the scale of
   * `measureTransferGain`: `(1 + a_p − a_r) / 2` for the held-out accuracies of a short fine-tune of
   * the source (a_p) and of its architecture from random weights (a_r). 0.5: they help no more than
   * a random start; above, they help; below, they hurt. Pass that call's result as is (its
   * `interval` then decides whether to train from scratch; see {@link NO_GAIN_SIMILARITY}), or a
   * judgment on the same scale. `measureSimilarity`'s result (1 − PAD/2, how far apart the inputs
   * are) is refused: it says whether a shift can be detected, not whether the source still helps.
   */
  readonly similarity:
    | number
    | {
        /** The similarity in [0, 1], as `measureTransferGain` reports it. */
        readonly similarity: number;
        /**
         * Its interval, as `measureTransferGain` reports it: `low ≤ high`, both in [0, 1]. When
         * given, the selector trains from scratch only when `high` is below
         * {@link NO_GAIN_SIMILARITY} (the probe showed that the source's weights hurt); without
         * it, when the similarity is below {@link NEGATIVE_TRANSFER_SIMILARITY}.
         */
        readonly interval?: {
          /** The lower end, in [0, 1]. */
          readonly low: number;
          /** The upper end, in [0, 1], at least `low`. */
          readonly high: number;
        };
      };
  /**
   * Number of target classes, an integer ≥ 2. When given, the size thresholds apply to examples
   * per class (`size / classes`); when omitted (regression, or unknown), to the whole set.
   */
  readonly classes?: number;
}

/** The continuous quantities behind a decision, before they become a recipe. */
interface Plan {
  /** Examples per class (or in all, without a class count). */
  readonly perClass: number;
  /** Fraction of the backbone that fine-tunes, in [0, 1], rounded to {@link FRACTION_STEP}. */
  readonly fraction: number;
  /** Relative depth of the tap, in (0, 1], rounded to {@link FRACTION_STEP}. */
  readonly depth: number;
  /** Whether to train from random weights instead of transferring. */
  readonly scratch: boolean;
}

const roundToStep = (x: number): number => Math.round(x / FRACTION_STEP) / Math.round(1 / FRACTION_STEP);

/** Position of `perClass` on the log-scale ramp from the fine-tune threshold (0) to large data (1). */
const dataRamp = (perClass: number): number =>
  Math.min(
    1,
    Math.max(0, Math.log(perClass / FINE_TUNE_MIN_EXAMPLES_PER_CLASS) / Math.log(LARGE_EXAMPLES_PER_CLASS / FINE_TUNE_MIN_EXAMPLES_PER_CLASS)),
  );

/**
 * The decision as numbers. Two regimes, split by size alone so that, at any size, a lower
 * similarity never moves the tap up (a from-scratch model counts as tapping the top):
 * - below {@link FINE_TUNE_MIN_EXAMPLES_PER_CLASS}: nothing fine-tunes; the tap rises linearly from
 *   {@link EARLIEST_TAP_DEPTH} at similarity 0 to the top at {@link TOP_TAP_MIN_SIMILARITY};
 * - from there on: below {@link NEGATIVE_TRANSFER_SIMILARITY} (or, given the probe's interval, when
 *   its upper end is below {@link NO_GAIN_SIMILARITY}) nothing transfers (the architecture trains
 *   from random weights); otherwise the tap is the top and the backbone fine-tunes after a
 *   head-only phase: all of it up to {@link FULL_FINE_TUNE_MAX_SIMILARITY}, and above that a fraction interpolated linearly
 *   between everything (at that similarity) and `SIMILAR_LARGE_FRACTION × ramp` (at similarity 1),
 *   where the ramp grows with log(size). More data never fine-tunes less.
 */
const plan = (size: number, similarity: number, classes: number | undefined, high: number | undefined): Plan => {
  const perClass = size / (classes ?? 1);
  if (perClass < FINE_TUNE_MIN_EXAMPLES_PER_CLASS) {
    const rise = Math.min(1, similarity / TOP_TAP_MIN_SIMILARITY);
    return { perClass, fraction: 0, depth: roundToStep(EARLIEST_TAP_DEPTH + (1 - EARLIEST_TAP_DEPTH) * rise), scratch: false };
  }
  if (high === undefined ? similarity < NEGATIVE_TRANSFER_SIMILARITY : high < NO_GAIN_SIMILARITY) return { perClass, fraction: 1, depth: 1, scratch: true };
  if (similarity <= FULL_FINE_TUNE_MAX_SIMILARITY) return { perClass, fraction: 1, depth: 1, scratch: false };
  const towardSimilar = (similarity - FULL_FINE_TUNE_MAX_SIMILARITY) / (1 - FULL_FINE_TUNE_MAX_SIMILARITY);
  const whenSimilar = SIMILAR_LARGE_FRACTION * dataRamp(perClass);
  return { perClass, fraction: roundToStep(1 - towardSimilar + towardSimilar * whenSimilar), depth: 1, scratch: false };
};

const policyOf = (fraction: number): TrainablePolicy =>
  fraction >= FULL_FINE_TUNE_FRACTION
    ? { kind: 'all' }
    : fraction >= MIN_FINE_TUNE_FRACTION
      ? { kind: 'top-fraction', fraction }
      : { kind: 'head-only' };

const pct = (x: number): string => `${Math.round(x * 100)} %`;
const num = (x: number): string => String(Number(x.toPrecision(3)));

const sizeSentence = (args: Checked, p: Plan): string =>
  args.classes === undefined
    ? `${args.size} labelled examples; with no class count the size thresholds apply to the whole set.`
    : `${args.size} labelled examples over ${args.classes} classes is ${num(p.perClass)} per class.`;

const reasons = (args: Checked, p: Plan, trains: TrainablePolicy): string[] => {
  const out = [sizeSentence(args, p)];
  if (args.measured) out.push(`Similarity ${num(args.similarity)} was measured on the target's labels: a short fine-tune of the source against a short training from random weights.`);
  if (p.perClass < FINE_TUNE_MIN_EXAMPLES_PER_CLASS) {
    out.push(
      `That is below ${FINE_TUNE_MIN_EXAMPLES_PER_CLASS} per class, the smallest size the calibration grid measured: with so few ` +
        'examples the backbone stays frozen and only a new head trains, as the CS231n transfer-learning notes advise for small data.',
    );
    const s = num(args.similarity);
    out.push(
      p.depth < 1
        ? `Similarity ${s} < ${TOP_TAP_MIN_SIMILARITY}: the top layers' features are specific to the source task ` +
            `(Yosinski et al. 2014), so the head reads more general features at relative depth ${p.depth}.`
        : `Similarity ${s} ${args.similarity >= TOP_TAP_MIN_SIMILARITY ? '≥' : 'is within rounding of'} ${TOP_TAP_MIN_SIMILARITY}: ` +
            "the source's top features should suit the target, so the head reads the top feature layer.",
    );
    return out;
  }
  if (p.scratch) {
    out.push(
      args.high === undefined
        ? `That is at least ${FINE_TUNE_MIN_EXAMPLES_PER_CLASS} per class, and similarity ${num(args.similarity)} is below ` +
            `${NEGATIVE_TRANSFER_SIMILARITY}: a short fine-tune of the source scores more than ${num(100 * (1 - 2 * NEGATIVE_TRANSFER_SIMILARITY))} points below a short run from random weights, so the source is unlikely to help. ` +
            'That threshold was fitted on the grid of #16 (docs/study.md); measureTransferGain\'s interval decides with evidence instead.'
        : `That is at least ${FINE_TUNE_MIN_EXAMPLES_PER_CLASS} per class, and the similarity's interval reaches only ${num(args.high)}: ` +
            'the probe showed, at the 5 % level, that the source does worse than random weights here. On the grid of #16 ' +
            '(docs/study.md) this rule, with nothing fitted, lost 0.6 points on average, against 1.5 for always fine-tuning.',
    );
    out.push(
      `The source's architecture trains from random weights, every layer from the start, with BatchNorm on batch statistics as in ` +
        'ordinary training and its statistics re-estimated on the training set afterwards: nothing the source learned is reused ' +
        '(Rosenstein et al. 2005: to transfer or not to transfer).',
    );
    // The grid's time ratios: medians per source and size from docs/results/grid/ (docs/study.md).
    out.push(
      `It is the costliest choice: at least ${scratchPhase.minSteps} full-network steps, within a budget of ` +
        `${num(SCRATCH_MAX_MS / 60_000)} minutes by default. On the grid of #16 it took a median 2.2–2.7× the time of a full ` +
        'fine-tune on the small CNN, 3.7–4.0× on the residual net and 8–10.6× on the MobileNet-style net; on a MobileNetV2 at 224² ' +
        'on 2 cores the budget ends it, after about 280 steps at batch 4.',
    );
    return out;
  }
  out.push(
    args.similarity <= FULL_FINE_TUNE_MAX_SIMILARITY
      ? `That is at least ${FINE_TUNE_MIN_EXAMPLES_PER_CLASS} per class, and similarity ${num(args.similarity)} is at most ` +
          `${FULL_FINE_TUNE_MAX_SIMILARITY}: on the calibration grid of #16 (docs/study.md), from 5 per class on, the rule fitted to it ` +
          'never chose a frozen head or a partial fine-tune over fine-tuning the whole backbone, at any similarity it measured (up to 0.76).'
      : `That is at least ${FINE_TUNE_MIN_EXAMPLES_PER_CLASS} per class, enough to adapt backbone weights. Similarity ${num(args.similarity)} is ` +
          `above ${FULL_FINE_TUNE_MAX_SIMILARITY}, so the lower layers should already fit and the share that adapts shrinks toward ` +
          `the top (CS231n: large and similar → fine-tune the top); it grows with the data up to ${LARGE_EXAMPLES_PER_CLASS} per class. ` +
          'The calibration grid measured no target this similar.',
  );
  if (trains.kind === 'head-only') {
    out.push(
      `At this similarity and size it comes to ${pct(p.fraction)} of the backbone, under the ${pct(MIN_FINE_TUNE_FRACTION)} worth a ` +
        'fine-tune phase, so the backbone stays frozen and the head reads the top feature layer.',
    );
  } else {
    const what = trains.kind === 'all' ? 'the whole backbone' : `the top ${pct(p.fraction)} of the backbone`;
    out.push(
      `A head-only phase trains first, then ${what} fine-tunes at ${fineTuneRateFactor(trains)}× the head's learning rate, ` +
        'so the pretrained features are adjusted rather than overwritten by a random head (CS231n).',
    );
  }
  return out;
};

/** The advice every negative-transfer warning ends with. */
const RACE_THEM = 'If you can afford it, let autoTransfer race the two on folds of your data';

const warningsFor = (args: Checked, p: Plan): string[] => {
  const out: string[] = [];
  if (args.high !== undefined && p.perClass >= FINE_TUNE_MIN_EXAMPLES_PER_CLASS) {
    // The counts: docs/results/grid-summary.md, on the probe as shipped.
    if (p.scratch) {
      out.push(
        `The interval lies below ${NO_GAIN_SIMILARITY}, a test at the 5 % level: of the 56 grid cells it put there, a full ` +
          `fine-tune still beat from scratch in 10, by up to 7.6 points. ${RACE_THEM}.`,
      );
    } else if (args.similarity < NO_GAIN_SIMILARITY) {
      out.push(
        `Similarity ${num(args.similarity)} is below ${NO_GAIN_SIMILARITY}, but its interval reaches ${num(args.high)}: the probe ` +
          'could not tell whether the source helps, so the selector fine-tunes. Of the 45 grid cells that read so, a full ' +
          `fine-tune beat from scratch in 24 (by up to 57 points) and lost in 20 (by up to 20). ${RACE_THEM}.`,
      );
    }
  } else if (args.similarity < NEGATIVE_TRANSFER_SIMILARITY) {
    out.push(
      p.scratch
        ? `Similarity ${num(args.similarity)} is below ${NEGATIVE_TRANSFER_SIMILARITY}, but a short probe scored on few held-out ` +
            'examples is noisy: of the 56 grid cells that read below it, a full fine-tune still beat from scratch in 13, by up ' +
            `to 28 points. ${RACE_THEM}, or compare with the full-fine-tune preset.`
        : `Similarity ${num(args.similarity)} is below ${NEGATIVE_TRANSFER_SIMILARITY}: the source may hurt rather than help (negative ` +
            'transfer). Compare against a model trained from scratch on the target data (the from-scratch preset).',
    );
  }
  if (args.classes !== undefined && args.size < args.classes) {
    out.push(`${args.size} examples cannot cover ${args.classes} classes: at least ${args.classes - args.size} classes have no example.`);
  } else if (p.perClass < FEW_EXAMPLES_PER_CLASS) {
    out.push(
      `Only ${num(p.perClass)} labelled examples per class: a held-out split will be tiny and its accuracy noisy; ` +
        'report a spread over several splits or seeds.',
    );
  }
  return out;
};

/** The arguments with a plain similarity, whichever form it came in. */
interface Checked extends SelectStrategyArgs {
  readonly similarity: number;
  readonly measured: boolean;
  /** The upper end of the probe's interval, when it came with one. */
  readonly high?: number;
}

const checkArgs = (args: SelectStrategyArgs): E.Either<TransferError, Checked> => {
  if (!isRecord(args)) return E.left(invalidArgument('args', '{ size, similarity, classes? }', args));
  const size = nonNegativeInteger('size', args.size);
  if (E.isLeft(size)) return size;
  const measured = typeof args.similarity === 'object' && args.similarity !== null;
  if (measured && isRecord(args.similarity) && 'proxyADistance' in args.similarity) {
    return E.left(
      invalidArgument(
        'similarity',
        "measureTransferGain's result, or a number on its scale (0.5: the source's weights help no more than random ones)",
        described("measureSimilarity's result: 1 − PAD/2 measures how far apart the inputs are, not whether the source helps this task (docs/choosing-a-strategy.md)"),
      ),
    );
  }
  const raw = measured ? (args.similarity as { similarity: unknown }).similarity : args.similarity;
  const similarity = unitInterval(measured ? 'similarity.similarity' : 'similarity', raw);
  if (E.isLeft(similarity)) return similarity;
  const interval = measured ? (args.similarity as { interval?: unknown }).interval : undefined;
  let high: number | undefined;
  if (interval !== undefined) {
    const expected = "measureTransferGain's interval: { low, high } in [0, 1] with low ≤ high";
    if (!isRecord(interval)) return E.left(invalidArgument('similarity.interval', expected, interval));
    const low = unitInterval('similarity.interval.low', interval['low']);
    if (E.isLeft(low)) return low;
    const up = unitInterval('similarity.interval.high', interval['high']);
    if (E.isLeft(up)) return up;
    if (low.right > up.right) return E.left(invalidArgument('similarity.interval', expected, described(`low ${low.right} > high ${up.right}`)));
    high = up.right;
  }
  const c = args.classes;
  if (c !== undefined && !(typeof c === 'number' && Number.isInteger(c) && c >= 2)) {
    return E.left(invalidArgument('classes', 'an integer ≥ 2 (a classification target has at least two classes)', c));
  }
  return E.right({ size: size.right, similarity: similarity.right, measured, ...(high === undefined ? {} : { high }), ...(c === undefined ? {} : { classes: c }) });
};

/**
 * What `selectStrategy` answers for a target with no labels: no recipe can train a head on none. If
 * the target's task is the source's, the source model adapts without labels, and the message names
 * the methods that apply and what each needs.
 */
const noLabels = (): TransferError =>
  notSupported(
    'size',
    `at least one labelled target example for a transfer recipe. With none, if the target's task is the source's, adapt the source model to it without labels with adapt() or autoAdapt(): ${adaptationAdvice('transductive', false).reasons.join(' ')}`,
    'no labelled target example',
  );

/**
 * Chooses a transfer recipe from the target's labelled data size and its similarity to the source.
 *
 * @param args - `size` (labelled target examples), `similarity` in [0, 1], optional `classes`
 * @returns a {@link Recipe} with its rationale and warnings; `NotSupported` for `size` 0, naming the
 * adaptation methods that need no target labels; or `InvalidArgument` when `size` is not
 * a non-negative integer, `similarity` is outside [0, 1] or NaN, or `classes` is not an integer ≥ 2
 *
 * @remarks
 * The shape is the CS231n transfer-learning notes' four quadrants; the numbers come from the
 * calibration grid of #16 (docs/study.md), which moved the boundaries a long way. The similarity is
 * `measureTransferGain`'s: 0.5 where the source's weights help no more than random ones. From
 * {@link FINE_TUNE_MIN_EXAMPLES_PER_CLASS} (5) examples per class on, the head trains first and then
 * the backbone fine-tunes: all of it up to similarity {@link FULL_FINE_TUNE_MAX_SIMILARITY} (above
 * every similarity the grid measured), a shrinking top part above it (large + similar →
 * `partial-fine-tune`, unmeasured). Below 5 per class the backbone stays frozen: a head on
 * the top features when the target is similar (`feature-extractor`), on earlier, more general ones
 * when it is not (`earlier-layer-tap`, after Yosinski et al. 2014). Below similarity
 * {@link NEGATIVE_TRANSFER_SIMILARITY}, from 5 per class on, it does not transfer at all: the
 * recipe is `from-scratch` (the architecture from random weights); below 5 per class a warning says
 * to compare against it.
 * The decision is monotone: more data never fine-tunes less, and a lower similarity never taps
 * later. Every threshold is a named constant in `selector/constants`.
 *
 * @example
 * ```ts
 * import { selectStrategy } from 'transferkit';
 * import { either as E } from 'fp-ts';
 *
 * const recipe = selectStrategy({ size: 50, similarity: 0.6, classes: 5 });
 * if (E.isRight(recipe)) {
 *   console.log(recipe.right.kind); // 'full-fine-tune'
 *   console.log(recipe.right.rationale.join('\n'));
 * }
 * ```
 * @function
 */
export const selectStrategy = guard('selectStrategy', (args: SelectStrategyArgs): E.Either<TransferError, Recipe> =>
  E.chain((ok: Checked) => {
    if (ok.size === 0) return E.left(noLabels());
    const p = plan(ok.size, ok.similarity, ok.classes, ok.high);
    const trains = policyOf(p.fraction);
    const tap: Tap = p.depth >= 1 ? { kind: 'top' } : { kind: 'relative-depth', depth: p.depth };
    return makeRecipe({
      tap,
      ...(p.scratch ? { start: 'random' as const } : {}),
      phases: p.scratch ? [scratchPhase] : trains.kind === 'head-only' ? [headPhase] : [headPhase, fineTunePhase(trains)],
      rationale: reasons(ok, p, trains),
      warnings: warningsFor(ok, p),
    });
  })(checkArgs(args)),
);
