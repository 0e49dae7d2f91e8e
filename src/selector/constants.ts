/**
 * The selector's thresholds, each named and documented with where it comes from.
 *
 * Status: provisional. The four-quadrant rule comes from the CS231n notes on transfer learning
 * (Stanford, "Transfer Learning", cs231n.github.io/transfer-learning) and the layer-generality
 * findings of Yosinski et al., "How transferable are features in deep neural networks?",
 * NeurIPS 2014. Neither source gives numbers for "small", "large", "similar" or "different"; the
 * values below are round starting points chosen for this library, and the MNIST transfer study
 * (`npm run calibrate`) is the place that will measure and replace them. Until then no number here
 * should be read as a measured result.
 *
 * Sizes are in labelled examples per class (the whole labelled set when no class count is given).
 */

/**
 * Below this many labelled examples per class the backbone stays frozen and only a head trains.
 * CS231n: with a small target set, fine-tuning the network risks overfitting; train a linear
 * classifier on its features instead. 100 per class is the provisional boundary.
 */
export const FINE_TUNE_MIN_EXAMPLES_PER_CLASS = 100;

/**
 * At and above this many examples per class the data counts as large: the fraction of the backbone
 * that fine-tunes reaches its maximum for the given similarity (the ramp between
 * {@link FINE_TUNE_MIN_EXAMPLES_PER_CLASS} and this is linear in log(size)). 1,000 per class is about
 * ImageNet-1k's size, the "large" data set of the CS231n notes.
 */
export const LARGE_EXAMPLES_PER_CLASS = 1000;

/**
 * A frozen backbone's head reads the top feature layer when similarity is at least this; below it
 * the tap moves earlier. Yosinski et al. 2014: the top layers' features are specific to the source
 * task, and transferability falls as tasks grow apart; CS231n: for a small and very different target,
 * a classifier on earlier activations may work better. 0.5 is the provisional midpoint.
 */
export const TOP_TAP_MIN_SIMILARITY = 0.5;

/**
 * The tap's relative depth at similarity 0 (0.5: halfway up the backbone). Between similarity 0 and
 * {@link TOP_TAP_MIN_SIMILARITY} the depth rises linearly to the top. Yosinski et al. 2014 found the
 * first layers general and the transition to specific features in the upper half of an 8-layer
 * network, so the earliest tap stays at the middle rather than near the input.
 */
export const EARLIEST_TAP_DEPTH = 0.5;

/**
 * The fraction of the backbone that fine-tunes at similarity 0 when the data has just reached
 * {@link FINE_TUNE_MIN_EXAMPLES_PER_CLASS}. It grows to 1 (everything) at {@link LARGE_EXAMPLES_PER_CLASS}.
 */
export const DIFFERENT_START_FRACTION = 0.25;

/**
 * The fraction of the backbone that fine-tunes at similarity 1 with large data: when the target is
 * like the source, the lower layers already fit and only the upper part needs to adapt (CS231n:
 * large and similar → fine-tune). Between similarity 0 and 1 the fraction is interpolated linearly.
 */
export const SIMILAR_LARGE_FRACTION = 0.5;

/** Fine-tuning less than this fraction of the backbone is not worth a second phase: the backbone stays frozen. */
export const MIN_FINE_TUNE_FRACTION = 0.1;

/** Fine-tuning at least this fraction of the backbone becomes a full fine-tune (everything trains). */
export const FULL_FINE_TUNE_FRACTION = 0.9;

/** Fractions and depths are rounded to multiples of this, so recipes read as round numbers. */
export const FRACTION_STEP = 0.05;

/**
 * Below this similarity a recipe warns of negative transfer (the source hurting rather than
 * helping; Rosenstein et al., "To transfer or not to transfer", NIPS 2005 workshop; Pan & Yang 2009 §2.3).
 */
export const NEGATIVE_TRANSFER_SIMILARITY = 0.25;

/** Below this many labelled examples per class a recipe warns that held-out estimates will be noisy. */
export const FEW_EXAMPLES_PER_CLASS = 10;
