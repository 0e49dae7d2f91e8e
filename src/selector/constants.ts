/**
 * The selector's thresholds, each named and documented with where it comes from.
 *
 * The shape of the rule comes from the CS231n notes on transfer learning (Stanford, "Transfer
 * Learning", cs231n.github.io/transfer-learning) and the layer-generality findings of Yosinski et
 * al., "How transferable are features in deep neural networks?", NeurIPS 2014.
 *
 * The similarity is on the scale of `measureTransferGain` (issue #16): `(1 + a_p − a_r) / 2`, where
 * a_p and a_r are the held-out accuracies of a short fine-tune of the source and of a short training
 * of its architecture from random weights. 0.5: the source's weights neither help nor hurt; above,
 * they help. Until #16 it was 1 − PAD/2 (`measureSimilarity`), which measures how easily a shift
 * is detected, not whether the source still helps: it read 0 on two targets issue #16 was filed
 * from, where a full fine-tune beat training from scratch by up to 12 points on one and lost by up
 * to 18 on the other.
 *
 * The numbers where the scale matters were fitted on the calibration grid of #16 (`npm run
 * calibrate`, docs/results/grid-summary.md): eight target domains, 5 to 600 labelled images per
 * class, on the small CNN and the residual net's first seed, judged leave one domain out; the
 * MobileNet-style net's cells, run after the fit, are out of sample for it. On `measureTransferGain`
 * as shipped (every fold below 30 per class) the grid measured similarities from 0.30 to 0.76; where
 * a constant governs a region it did not reach, its doc comment says so.
 *
 * Sizes are in labelled examples per class (the whole labelled set when no class count is given).
 */

/**
 * Below this many labelled examples per class the backbone stays frozen and only a head trains.
 * CS231n advises a frozen backbone for small targets (fine-tuning risks overfitting), and the first
 * version of this rule froze it below 100 per class. Both calibration grids contradict that: with a
 * head-first phase and a tenth of the head's learning rate, a full fine-tune beat both frozen heads
 * at 5 per class in 16 of the grid of #16's 21 groups (a source and a domain) and lost the other
 * five by at most 2.0 points (three of them on the MobileNet-style net), and that grid, fitting
 * this threshold among 5, 6 and 21 per class, chose 5 (docs/results/grid-summary.md). 5 per class is the smallest size
 * either grid measured, so below it the CS231n advice stands, unmeasured.
 */
export const FINE_TUNE_MIN_EXAMPLES_PER_CLASS = 5;

/**
 * At and above this many examples per class the data counts as large: at high similarity the
 * fine-tuned fraction reaches {@link SIMILAR_LARGE_FRACTION} (the ramp from
 * {@link FINE_TUNE_MIN_EXAMPLES_PER_CLASS} to this is linear in log(size)). 1,000 per class is about
 * ImageNet-1k's size, the "large" data set of the CS231n notes; the grid stopped at 600 and did not
 * test it.
 */
export const LARGE_EXAMPLES_PER_CLASS = 1000;

/**
 * Up to this similarity, whenever the backbone fine-tunes at all, all of it does (from
 * {@link NEGATIVE_TRANSFER_SIMILARITY} up: below it nothing transfers). On the grid of #16 a
 * partial fine-tune (the top quarter) beat the full one by more than half a point in one group of
 * 64 when this was set (1.0 point), and in 5 of 96 once the other sources ran (by 1.4 to 3.0, all
 * at 5 per class, four of them on the MobileNet-style net), and the rule fitted there never chose
 * it: the probe does not tell those groups apart. The highest similarity measured is 0.76 (one cell
 * read 0.88 on its first fold alone), so above 0.85 is unmeasured.
 */
export const FULL_FINE_TUNE_MAX_SIMILARITY = 0.85;

/**
 * The fraction of the backbone that fine-tunes at similarity 1 with large data: when the source
 * already does the target's task well, the lower layers fit and only the upper part needs to adapt
 * (CS231n: large and similar → fine-tune the top). Between {@link FULL_FINE_TUNE_MAX_SIMILARITY}
 * (everything) and similarity 1 the fraction is interpolated linearly. Unmeasured: no target in
 * either grid was this similar.
 */
export const SIMILAR_LARGE_FRACTION = 0.5;

/**
 * A frozen backbone's head (below {@link FINE_TUNE_MIN_EXAMPLES_PER_CLASS}) reads the top feature
 * layer when similarity is at least this; below it the tap moves earlier. Yosinski et al. 2014: the
 * top layers' features are specific to the source task, and transferability falls as tasks grow
 * apart. 0.5 is where the source's weights stop helping on the transfer-gain scale. The first grid
 * found the earlier tap better on its two most distant domains at 5 and 20 per class
 * (docs/results/calibration-mnist-before.md); neither grid measured below 5 per class, where this
 * applies, so the value is a judgment.
 */
export const TOP_TAP_MIN_SIMILARITY = 0.5;

/**
 * The tap's relative depth at similarity 0; between similarity 0 and {@link TOP_TAP_MIN_SIMILARITY}
 * the depth rises linearly to the top. In the grid a head halfway up (relative depth 0.5, the second
 * of three conv blocks) never beat the head on the top layer, while the taps that did (the last conv
 * block, in calibration-mnist-before.md) sat at relative depths 0.55–0.8 of that model. The earliest tap is therefore three quarters of the way up,
 * not halfway as in the first version of this rule.
 */
export const EARLIEST_TAP_DEPTH = 0.75;

/** Fine-tuning less than this fraction of the backbone is not worth a second phase: the backbone stays frozen. */
export const MIN_FINE_TUNE_FRACTION = 0.1;

/** Fine-tuning at least this fraction of the backbone becomes a full fine-tune (everything trains). */
export const FULL_FINE_TUNE_FRACTION = 0.9;

/** Fractions and depths are rounded to multiples of this, so recipes read as round numbers. */
export const FRACTION_STEP = 0.05;

/**
 * Below this similarity the source is likely to hurt rather than help (negative transfer;
 * Rosenstein et al., "To transfer or not to transfer", NIPS 2005 workshop; Pan & Yang 2009 §2.3).
 * From {@link FINE_TUNE_MIN_EXAMPLES_PER_CLASS} per class on, the selector then trains from
 * scratch; below that, it keeps a frozen head and warns. Fitted on the grid of #16 (130 cells over
 * 64 groups of a source, a domain and a size, with the CNN and the residual net; the rule's least
 * mean regret): fitted on every domain but one, the threshold came out between 0.45 and 0.47 for
 * each, and the rule's regret on the domain left out was 0.8 points mean and 7.4 worst, against 1.8
 * and 16.2 for always fine-tuning (docs/results/grid-summary.md); this value, fitted on all of them
 * and rounded, scores 0.6 and 7.4 there. With the cells run after the fit added (236 cells, 96
 * groups) and the probe on every fold below 30 per class, as `measureTransferGain` now reads it:
 * 1.0 and 16.6 left one domain out, against 1.5 and 20.0 for always fine-tuning; fitted on all
 * groups that reading's threshold is 0.467, on the same plateau. On the MobileNet-style net's groups
 * alone, as shipped, 0.6 and 6.6, against 0.9 and 8.0. Its worst is a binary task at 5 per class
 * (the residual net's rotated parity digits), where the probe scores 10 images. Above 0.48 the
 * regret jumps (in sample, from 0.8 points mean and 16.6 worst at 0.48 to 1.3 and 28.7 at 0.49 and
 * 2.2 and 28.5 at 0.52), so the threshold is not set higher.
 */
export const NEGATIVE_TRANSFER_SIMILARITY = 0.46;

/**
 * When the similarity comes with the probe's interval (`measureTransferGain`'s `interval`), the
 * selector trains from scratch, from {@link FINE_TUNE_MIN_EXAMPLES_PER_CLASS} per class on, only
 * when the interval's upper end is below this: 0.5 is where the source's weights help no more than
 * random ones, so the probe must show, at the 5 % level, that they hurt. Nothing here is fitted: a
 * short probe on a few dozen held-out images cannot resolve the few points that
 * {@link NEGATIVE_TRANSFER_SIMILARITY} asks it to, and on the grid of #16 (236 cells, 96 groups)
 * that threshold's worst groups were cells where the probe read just below it on 10 or 25 images
 * while a full fine-tune won by 20 points or more. With the interval the rule scored 0.7 points of
 * regret mean and 14.0 worst, the same in and out of sample since nothing is fitted, against 1.0
 * and 16.6 for the fitted threshold left one domain out and 1.5 and 20.0 for always fine-tuning
 * (docs/study.md).
 */
export const NO_GAIN_SIMILARITY = 0.5;

/** Below this many labelled examples per class a recipe warns that held-out estimates will be noisy. */
export const FEW_EXAMPLES_PER_CLASS = 10;
