/**
 * The domain-adaptation methods `adapt` runs, each as phases of the one runner (an objective on a
 * phase: core/objective.ts) or as a model operation (AdaBN), and their constants.
 */
import type { Objective } from '../core/objective';
import type { Phase } from '../core/recipe';

export { ADAPT_METHODS, BATCH_NORM_METHODS, SOURCE_FREE_METHODS, SOURCE_LABEL_METHODS, TRAINING_METHODS, type AdaptMethod } from '../core/adaptationMethods';

/**
 * TENT's Adam learning rate on BatchNorm's scale and offset: the rate Wang et al. used with Adam on
 * CIFAR-10-C ("Tent: Fully Test-Time Adaptation by Entropy Minimization", ICLR 2021, §4).
 */
export const TENT_LEARNING_RATE = 1e-3;

/** TENT's passes over the target: one, as the paper adapts online while it predicts. */
export const TENT_EPOCHS = 1;

/**
 * Adam learning rate of the methods that fine-tune the whole network from the source (self-training,
 * Deep CORAL, MMD, DANN): the library's full fine-tune rate (head rate 1e-2 × 0.1; core/phases.ts).
 */
export const ADAPT_LEARNING_RATE = 1e-3;

/** Steps of the methods that train with source data (importance weighting, Deep CORAL, MMD, DANN), when `options.steps` is not given. */
export const ADAPT_STEPS = 300;

/**
 * Self-training's rounds, and the share of the target each round labels: a third, two thirds, all
 * (a curriculum from the most confident; Zou et al., "Unsupervised Domain Adaptation for Semantic
 * Segmentation via Class-Balanced Self-Training", ECCV 2018, whose class-balanced quotas are used).
 */
export const PSEUDO_LABEL_FRACTIONS: ReadonlyArray<number> = [1 / 3, 2 / 3, 1];

/** A pseudo-label is kept only where its predicted probability is at least this. */
export const PSEUDO_LABEL_THRESHOLD = 0.5;

/** Steps of each self-training round, when `options.steps` is not given (then split over the rounds). */
export const PSEUDO_LABEL_STEPS = 100;

/**
 * Importance weighting retrains the source's classifier alone (on cached features) with weighted
 * source examples, at Adam 1e-3: the classifier is already trained, so the head's usual 1e-2
 * would throw it away.
 */
export const IMPORTANCE_LEARNING_RATE = 1e-3;

/**
 * Deep CORAL's weight on its loss. Sun & Saenko (2016) weigh it so that it matches the
 * classification loss by the end of training; the 1/(4d²) scale makes the term small beside the
 * cross-entropy, so 10 was set up front to let it count. Not tuned: on the adaptation benchmark
 * Deep CORAL stayed within 3 points of source-only on average (docs/adaptation.md).
 */
export const DEEP_CORAL_WEIGHT = 10;

/** The MMD term's weight (DAN's λ = 1: Long et al. 2015). */
export const MMD_WEIGHT = 1;

/** DANN's reversal weight at the end of its ramp (Ganin & Lempitsky 2015: λ → 1). */
export const DANN_WEIGHT = 1;

/** Units of DANN's domain classifier's hidden layer. */
export const DANN_HIDDEN = 64;

/** A phase that trains every layer at `learningRate`, with no weight penalty. */
export const adaptationPhase = (name: string, learningRate: number): Phase => ({
  name,
  trains: { kind: 'all' },
  epochs: 1,
  learningRate,
  optimizer: 'adam',
  regularization: { l2: 0 },
});

/** The objective of a method that trains on source labels and aligns with the target. */
export const sourceObjective = (method: 'deep-coral' | 'mmd' | 'dann', steps: number): Objective =>
  method === 'deep-coral'
    ? { supervised: 1, alignment: { kind: 'coral', weight: DEEP_CORAL_WEIGHT } }
    : method === 'mmd'
      ? { supervised: 1, alignment: { kind: 'mmd', weight: MMD_WEIGHT } }
      : { supervised: 1, adversarial: { weight: DANN_WEIGHT, hidden: DANN_HIDDEN, learningRate: ADAPT_LEARNING_RATE, rampSteps: steps } };

/** TENT's objective: the entropy of the predictions, on BatchNorm's scale and offset alone, normalising by each batch. */
export const TENT_OBJECTIVE: Objective = { supervised: 0, entropy: 1, trains: 'normalization', batchStatistics: true };

/**
 * Class-balanced pseudo-labels from predicted probabilities (rows × classes): each class keeps its
 * most confident rows, at most ⌈fraction · rows / classes⌉, whose probability is at least
 * {@link PSEUDO_LABEL_THRESHOLD}. Returns each row's label (its most probable class) and its weight
 * (1 kept, 0 not).
 */
export const pseudoLabels = (probabilities: Float32Array, rows: number, classes: number, fraction: number): { readonly labels: Int32Array; readonly weights: Float32Array; readonly kept: number } => {
  const labels = new Int32Array(rows);
  const confidence = new Float32Array(rows);
  for (let i = 0; i < rows; i++) {
    let best = 0;
    for (let j = 1; j < classes; j++) if (probabilities[i * classes + j]! > probabilities[i * classes + best]!) best = j;
    labels[i] = best;
    confidence[i] = probabilities[i * classes + best]!;
  }
  const quota = Math.ceil((fraction * rows) / classes);
  const weights = new Float32Array(rows);
  let kept = 0;
  for (let c = 0; c < classes; c++) {
    const members = [];
    for (let i = 0; i < rows; i++) if (labels[i] === c && confidence[i]! >= PSEUDO_LABEL_THRESHOLD) members.push(i);
    members.sort((a, b) => confidence[b]! - confidence[a]! || a - b);
    for (const i of members.slice(0, quota)) {
      weights[i] = 1;
      kept++;
    }
  }
  return { labels, weights, kept };
};
