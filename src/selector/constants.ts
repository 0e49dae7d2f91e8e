/**
 * The selector's thresholds, each named and documented with where it comes from.
 *
 * The shape of the rule comes from the CS231n notes on transfer learning (Stanford, "Transfer
 * Learning", cs231n.github.io/transfer-learning) and the layer-generality findings of Yosinski et
 * al., "How transferable are features in deep neural networks?", NeurIPS 2014. Its numbers were set
 * from the MNIST calibration grid, docs/results/calibration-mnist.md (`npm run calibrate:first`: a small
 * conv–BatchNorm CNN trained on digits 0–4, transferred to digits 5–9 in four domains at 5, 20, 100
 * and 600 labelled images per class, 3 seeds). The grid measured similarities from 0 to 0.48 only;
 * where a constant governs a region it did not reach, its doc comment says so.
 *
 * Sizes are in labelled examples per class (the whole labelled set when no class count is given).
 */

/**
 * Below this many labelled examples per class the backbone stays frozen and only a head trains.
 * CS231n advises a frozen backbone for small targets (fine-tuning risks overfitting), and the first
 * version of this rule froze it below 100 per class. The calibration grid contradicts that: with a
 * head-first phase and a tenth of the head's learning rate, a full fine-tune beat every frozen head
 * in 15 of 16 cells, by 2.2–4.3 points already at 5 per class; the 16th, permuted digits at 5 per
 * class, is one where the selector trains from scratch, and there the LogME-ranked earlier tap
 * matched it (51.5 % against 51.0 %). 5 per class is the smallest size the grid measured, so below
 * it the CS231n advice stands, unmeasured.
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
 * {@link NEGATIVE_TRANSFER_SIMILARITY} up: below it nothing transfers). In every cell of the
 * calibration grid (similarities 0, 0.07, 0.14 and 0.48) a full fine-tune beat the partial one (the
 * top quarter) by 2.7–20.1 points, and both frozen heads but once (permuted digits at 5 per class,
 * by 0.5 points). 0.5 sits just above the highest similarity the grid measured.
 */
export const FULL_FINE_TUNE_MAX_SIMILARITY = 0.5;

/**
 * The fraction of the backbone that fine-tunes at similarity 1 with large data: when the target is
 * like the source, the lower layers already fit and only the upper part needs to adapt (CS231n:
 * large and similar → fine-tune the top). Between {@link FULL_FINE_TUNE_MAX_SIMILARITY} (everything)
 * and similarity 1 the fraction is interpolated linearly. Unmeasured: no target in the grid was this
 * similar.
 */
export const SIMILAR_LARGE_FRACTION = 0.5;

/**
 * A frozen backbone's head (below {@link FINE_TUNE_MIN_EXAMPLES_PER_CLASS}) reads the top feature
 * layer when similarity is at least this; below it the tap moves earlier. Yosinski et al. 2014: the
 * top layers' features are specific to the source task, and transferability falls as tasks grow
 * apart. The grid agrees at 5 and 20 per class, where the selector's earlier constants tapped
 * earlier below 0.5 (docs/results/calibration-mnist-before.md):
 * on rotated digits (similarity 0.14) a head on the last conv block beat the head on the top layer,
 * 57.0 % against 52.8 % and 70.1 % against 66.5 %, and on permuted digits (0.07) 51.5 % against 41.9 %
 * and 64.3 % against 51.6 %; on same-kind digits (0.48) the top was used. 0.5 is kept.
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
 * scratch; below that, it keeps a frozen head and warns. In the calibration grid
 * (docs/results/calibration-mnist.md) the two domains below it — permuted digits at 0.07, inverted
 * at 0.00 — are the only ones where training from scratch ever won: on permuted digits by 2.0–13.5
 * points over the best strategy at every size, on inverted digits by 0.7–1.4 at 20, 100 and 600 per
 * class, while a full fine-tune won there by 3.4 at 5. Training from scratch below 0.1 loses at
 * most 3.4 points in those 8 cells; always fine-tuning loses up to 14.0. At 0.14 and 0.48 scratch
 * lost every cell, by 0.9–24.1 points. Measured similarity cannot tell inverted from
 * permuted digits (the proxy A-distance saturates for both), so which side of that trade a target
 * falls on is not knowable from similarity alone.
 */
export const NEGATIVE_TRANSFER_SIMILARITY = 0.1;

/** Below this many labelled examples per class a recipe warns that held-out estimates will be noisy. */
export const FEW_EXAMPLES_PER_CLASS = 10;
