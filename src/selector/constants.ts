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
 * Rosenstein et al., "To transfer or not to transfer", NIPS 2005 workshop; Pan & Yang 2009 §2.3),
 * when the similarity comes without the probe's interval (a bare number, or `{ similarity }`): with
 * it, {@link NO_GAIN_SIMILARITY} decides. From {@link FINE_TUNE_MIN_EXAMPLES_PER_CLASS} per class
 * on, the selector then trains from scratch; below that, it keeps a frozen head and warns. Fitted on
 * the grid of #16 (130 cells over 64 groups of a source, a domain and a size, with the CNN and the
 * residual net; the rule's least mean regret) and rounded. On the grid's 269 cells and 96 groups,
 * with the probe as `measureTransferGain` reads it, that rule fitted on every domain but one scores
 * 1.4 points of regret mean and 14.6 worst on the one left out (the threshold came out between 0.37
 * and 0.46), against 1.5 and 20.0 for always fine-tuning. Its worst groups are binary tasks at 5
 * per class where the probe scores 10 images: on the residual net's parity digits it read 0.40 in
 * two seeds, and a full fine-tune won by 21 and 22 points. On the 33 cells run after the interval
 * rule replaced it as the default, it scored 1.9 and 22.4 against the interval's 0.8 and 5.8
 * (docs/study.md).
 */
export const NEGATIVE_TRANSFER_SIMILARITY = 0.46;

/**
 * When the similarity comes with the probe's interval (`measureTransferGain`'s `interval`), the
 * selector trains from scratch, from {@link FINE_TUNE_MIN_EXAMPLES_PER_CLASS} per class on, only
 * when the interval's upper end is below this: 0.5 is where the source's weights help no more than
 * random ones, so the probe must show, at the 5 % level, that they hurt. Nothing here is fitted: a
 * short probe on a few dozen held-out images cannot resolve the few points that
 * {@link NEGATIVE_TRANSFER_SIMILARITY} asks it to. On the grid of #16 (269 cells, 96 groups) the
 * rule scores 0.6 points of regret mean and 14.0 worst, the same with any domain or source left
 * out since nothing is fitted, against 1.4 and 14.6 for the fitted threshold left one domain out
 * and 1.5 and 20.0 for always fine-tuning. It was chosen after seeing 236 of those cells; on the 33
 * run after, 0.8 and 5.8, against 1.9 and 22.4 for the threshold and 1.6 and 15.4 for always
 * fine-tuning (docs/study.md). Its worst group is permuted digits at 5 per class on the CNN, where
 * from scratch won by 11 to 20 points and 25 scored images could not show it.
 */
export const NO_GAIN_SIMILARITY = 0.5;

/** Below this many labelled examples per class a recipe warns that held-out estimates will be noisy. */
export const FEW_EXAMPLES_PER_CLASS = 10;
