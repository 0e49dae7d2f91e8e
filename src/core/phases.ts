import type { Phase, TrainablePolicy } from './recipe';

/**
 * The default training phases, shared by the strategy presets and by `selectStrategy`.
 * Provisional like the selector's thresholds: the MNIST calibration study will revisit them.
 */

/** Epochs of a head-only phase. It trains on cached embeddings, so epochs are cheap. */
export const HEAD_EPOCHS = 30;

/** Adam learning rate of a head-only phase (Adam's usual default, Kingma & Ba 2015). */
export const HEAD_LEARNING_RATE = 1e-3;

/** L2 penalty on the kernels that train, a light guard against fitting a few examples exactly. */
export const HEAD_L2 = 1e-4;

/** Epochs of a fine-tune phase. */
export const FINE_TUNE_EPOCHS = 10;

/**
 * Fine-tuning runs at this multiple of the head's learning rate. CS231n: use a smaller learning rate
 * for pretrained weights than for the new head, so the pretrained features are adjusted, not erased.
 */
export const FINE_TUNE_LEARNING_RATE_FACTOR = 0.1;

/** A head-only phase with the defaults above: the backbone frozen, Adam at {@link HEAD_LEARNING_RATE}. */
export const headPhase: Phase = {
  name: 'head',
  trains: { kind: 'head-only' },
  epochs: HEAD_EPOCHS,
  learningRate: HEAD_LEARNING_RATE,
  optimizer: 'adam',
  regularization: { l2: HEAD_L2 },
};

/**
 * A fine-tune phase that trains `trains` with the head, at {@link FINE_TUNE_LEARNING_RATE_FACTOR}
 * times the head's learning rate. Run it after a {@link headPhase}, so a random head does not push
 * large gradients into the pretrained layers.
 */
export const fineTunePhase = (trains: TrainablePolicy): Phase => ({
  name: 'fine-tune',
  trains,
  epochs: FINE_TUNE_EPOCHS,
  learningRate: HEAD_LEARNING_RATE * FINE_TUNE_LEARNING_RATE_FACTOR,
  optimizer: 'adam',
  regularization: { l2: HEAD_L2 },
});
