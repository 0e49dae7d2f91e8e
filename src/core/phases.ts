import { isRecord, quietly } from './boundary';
import type { Phase, TrainablePolicy } from './recipe';

/**
 * The default training phases, shared by the strategy presets and by `selectStrategy`.
 *
 * The step counts and the head's learning rate were set from the MNIST study (docs/study.md): the
 * first calibration grid, run with 30 head epochs at Adam 1e-3 and no step floor, showed every
 * strategy losing to a model trained from scratch below 600 images per class, because at 5 per
 * class 30 epochs are 30 steps and the head had not converged. With the floors and rates below the
 * head converges at every size; docs/results/calibration-mnist.md holds the grid they produce.
 */

/** Epochs of a head-only phase. It trains on cached embeddings, so epochs are cheap. */
export const HEAD_EPOCHS = 30;

/**
 * A head-only phase takes at least this many steps, whatever the data size (see `Phase.minSteps`).
 * Chosen from a one-off sweep of 100 to 3,000 steps on the MNIST study's targets (not committed):
 * heads at Adam 1e-2 were still improving past 1,000 steps at 100 and 600 images per class, and
 * barely moved past 1,000 at 5. The committed evidence is the calibration grid run with this value
 * (docs/study.md). A head trains on cached embeddings, so 2,000 steps take seconds.
 */
export const HEAD_MIN_STEPS = 2000;

/**
 * Early stopping of a head-only phase, when the run has validation data: the phase ends once this
 * many steps pass without a new best validation loss. Measured on the MNIST study's grid with a
 * fifth of each target held out (`npx tsx scripts/mnist/earlyStopping.ts`, docs/browser.md): at
 * 400 the held-out accuracy moved by −0.5, 0.0, 0.0 and 0.0 points on average at 5, 20, 100 and
 * 600 images per digit (the seeds' spread there is 4.8, 2.9, 1.5 and 1.1), for 34 % and 77 % of the
 * steps at 5 and 20. Patiences of 100 and 200 cost up to 3.6 points on average.
 */
export const HEAD_PATIENCE_STEPS = 400;

/**
 * Adam learning rate of a head-only phase. Ten times Adam's usual default (Kingma & Ba 2015): a new
 * linear head on fixed features is a convex problem, and at 1e-3 it was still far from converged
 * after the MNIST study's budgets.
 */
export const HEAD_LEARNING_RATE = 1e-2;

/** L2 penalty on the kernels that train, a light guard against fitting a few examples exactly. */
export const HEAD_L2 = 1e-4;

/** Epochs of a fine-tune phase. */
export const FINE_TUNE_EPOCHS = 10;

/** A fine-tune phase takes at least this many steps, whatever the data size (see `Phase.minSteps`). */
export const FINE_TUNE_MIN_STEPS = 300;

/**
 * A fine-tune of the whole backbone runs at this multiple of the head's learning rate. CS231n: use
 * a smaller learning rate for pretrained weights than for the new head, so the pretrained features
 * are adjusted, not erased. Measured (issue 22, `npm run study:rates`, docs/study.md): the full
 * fine-tune preset at ×0.3, 0.1, 0.03 and 0.01 on the MNIST grid (4 domains × 5, 20, 100 per digit
 * × 3 seeds) from two sources, the CNN and a MobileNetV2-style net. ×0.1 had the lowest regret
 * against the best factor of each run, 1.2 points mean and 5.8 worst over the 72 runs; left one
 * domain out, the factor chosen on the other three scored 1.5 and 5.8. ×0.3 against ×0.1 was
 * −0.6 ± 0.5 points on the CNN and +0.2 ± 0.5 on the other (mean ± standard error), no difference
 * either way, with a worse worst case (9.4) and three times the guard actions (56 against 18);
 * ×0.03 and ×0.01 had mean regrets of 2.0 and 5.1. On a pretrained 224²
 * MobileNetV2 every start from 3e-3 to 1e-5 ended within two of the 90 test images of each other, the
 * divergence guard lowering the rate in the first steps (docs/strategies.md).
 */
export const FINE_TUNE_LEARNING_RATE_FACTOR = 0.1;

/**
 * A fine-tune of part of the backbone (`top-fraction`, `top-layers`) runs at this multiple of the
 * head's learning rate: fewer, higher layers adapt, and they take a larger step. Measured with
 * {@link FINE_TUNE_LEARNING_RATE_FACTOR}: the partial fine-tune preset (the top quarter) at ×0.3 beat
 * ×0.1 by 0.7 ± 0.4 points on the CNN and 0.8 ± 0.4 on the MobileNetV2-style net (mean ± standard
 * error over 36 runs each); its regret was 0.6 mean and 4.0 worst against 1.4 and 6.8 at ×0.1, and
 * left one domain out ×0.3 was chosen every time (0.6 and 4.0). The pretrained 224² MobileNetV2
 * scored 93.3 % at both. Only the top quarter was measured; other fractions take it unmeasured.
 */
export const PARTIAL_FINE_TUNE_LEARNING_RATE_FACTOR = 0.3;

/**
 * The multiple of the head's learning rate a fine-tune that trains `trains` runs at:
 * {@link FINE_TUNE_LEARNING_RATE_FACTOR} for `all`, {@link PARTIAL_FINE_TUNE_LEARNING_RATE_FACTOR}
 * for anything else (a value that is not a policy included; `makeRecipe` refuses it later).
 */
export const fineTuneRateFactor = (trains: TrainablePolicy): number =>
  quietly(PARTIAL_FINE_TUNE_LEARNING_RATE_FACTOR, () =>
    isRecord(trains) && trains.kind === 'all' ? FINE_TUNE_LEARNING_RATE_FACTOR : PARTIAL_FINE_TUNE_LEARNING_RATE_FACTOR,
  );

/** A head-only phase with the defaults above: the backbone frozen, Adam at {@link HEAD_LEARNING_RATE}. */
export const headPhase: Phase = {
  name: 'head',
  trains: { kind: 'head-only' },
  epochs: HEAD_EPOCHS,
  minSteps: HEAD_MIN_STEPS,
  earlyStopping: { patience: HEAD_PATIENCE_STEPS },
  learningRate: HEAD_LEARNING_RATE,
  optimizer: 'adam',
  regularization: { l2: HEAD_L2 },
};

/**
 * A fine-tune phase that trains `trains` with the head, at {@link fineTuneRateFactor} times the
 * head's learning rate ({@link FINE_TUNE_LEARNING_RATE_FACTOR} for the whole backbone,
 * {@link PARTIAL_FINE_TUNE_LEARNING_RATE_FACTOR} for part of it). Run it after a {@link headPhase},
 * so a random head does not push large gradients into the pretrained layers.
 */
export const fineTunePhase = (trains: TrainablePolicy): Phase => ({
  name: 'fine-tune',
  trains,
  epochs: FINE_TUNE_EPOCHS,
  minSteps: FINE_TUNE_MIN_STEPS,
  learningRate: HEAD_LEARNING_RATE * fineTuneRateFactor(trains),
  optimizer: 'adam',
  regularization: { l2: HEAD_L2 },
});

/**
 * Steps a from-scratch phase takes at least, whatever the data size. The MNIST study's baseline
 * (docs/study.md) gets more full-network steps than any strategy's fine-tune phase takes (300, up to
 * 940 at 600 images per class), so a transfer gain there is not an under-trained baseline; its first
 * version, with 300 steps, scored lower at 600 per class than at 100.
 */
export const SCRATCH_MIN_STEPS = 1000;

/**
 * The time a from-scratch phase may take by default, in ms: 5 minutes. Its step floor alone
 * ({@link SCRATCH_MIN_STEPS}) projects to about 22 minutes for a MobileNetV2 at 224² on 2 cores
 * (issue 22), while on the MNIST study's network the longest from-scratch run took 22 s, far
 * inside it. A phase that reaches it says so (`stop: 'time-budget'`), and its BatchNorm
 * statistics are re-estimated on the training examples afterwards, as after any from-scratch
 * phase, so a model cut short still predicts as it trained. `phases: { scratch: { maxMs } }`
 * changes it; `maxPhaseMs` can only shorten it.
 */
export const SCRATCH_MAX_MS = 300_000;

/** Adam's usual step size (Kingma & Ba 2015) for a network that starts from random weights. */
export const SCRATCH_LEARNING_RATE = 1e-3;

/**
 * The one phase of a from-scratch recipe: every layer trains from its random start, Adam at
 * {@link SCRATCH_LEARNING_RATE} for {@link FINE_TUNE_EPOCHS} epochs or at least
 * {@link SCRATCH_MIN_STEPS} steps, but not past {@link SCRATCH_MAX_MS}, with the same light L2
 * penalty as the other phases.
 */
export const scratchPhase: Phase = {
  name: 'scratch',
  trains: { kind: 'all' },
  epochs: FINE_TUNE_EPOCHS,
  minSteps: SCRATCH_MIN_STEPS,
  maxMs: SCRATCH_MAX_MS,
  learningRate: SCRATCH_LEARNING_RATE,
  optimizer: 'adam',
  regularization: { l2: HEAD_L2 },
};
