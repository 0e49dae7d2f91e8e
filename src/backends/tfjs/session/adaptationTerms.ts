/**
 * The terms of a domain-adaptation objective (core/objective.ts), as tfjs ops on a batch's
 * features (the head's input) and logits. Each returns a scalar to be minimised; a session adds
 * them with their weights.
 */
import * as tf from '@tensorflow/tfjs-core';
import { deriveSeed } from '../../../core/random';

/**
 * Σᵢ wᵢ ℓᵢ / Σᵢ wᵢ over a batch, ℓᵢ each example's cross-entropy from its logits (a stable
 * log-softmax, as steps.ts's `crossEntropy`); 0 where the weights are all 0.
 */
export const weightedCrossEntropy = (logits: tf.Tensor, y: tf.Tensor, classes: number, weights: tf.Tensor): tf.Scalar => {
  const each = tf.sub(tf.logSumExp(logits, 1), tf.sum(tf.mul(logits, tf.oneHot(y as tf.Tensor1D, classes)), 1));
  return tf.div(tf.sum(tf.mul(weights, each)), tf.maximum(tf.sum(weights), 1e-12)) as tf.Scalar;
};

/** The mean Shannon entropy of the predicted class distributions, in nats: −Σ p log p, from logits (TENT). */
export const meanEntropy = (logits: tf.Tensor): tf.Scalar => {
  const logP = tf.logSoftmax(logits, 1);
  return tf.neg(tf.mean(tf.sum(tf.mul(tf.exp(logP), logP), 1))) as tf.Scalar;
};

/** A batch's feature covariance (rows are examples), unbiased. */
const covariance = (f: tf.Tensor): tf.Tensor => {
  const n = f.shape[0]!;
  const centred = tf.sub(f, tf.mean(f, 0, true));
  return tf.div(tf.matMul(centred, centred, true, false), Math.max(1, n - 1));
};

/**
 * Deep CORAL's loss: ‖C_s − C_t‖²_F / (4d²), C the two batches' feature covariances and d their
 * width (Sun & Saenko, "Deep CORAL: Correlation Alignment for Deep Domain Adaptation", ECCV 2016
 * workshops, eq. 1).
 */
export const coralLoss = (source: tf.Tensor, target: tf.Tensor): tf.Scalar => {
  const d = source.shape[1]!;
  return tf.div(tf.sum(tf.square(tf.sub(covariance(source), covariance(target)))), 4 * d * d) as tf.Scalar;
};

/** Squared distances between every row of `a` and every row of `b`. */
const squaredDistances = (a: tf.Tensor, b: tf.Tensor): tf.Tensor =>
  tf.relu(tf.add(tf.sub(tf.sum(tf.square(a), 1, true), tf.mul(2, tf.matMul(a, b, false, true))), tf.transpose(tf.sum(tf.square(b), 1, true))));

/** The multiples of the base bandwidth the kernels use (DAN's family of Gaussian kernels). */
export const MMD_BANDWIDTH_MULTIPLES = [0.25, 0.5, 1, 2, 4] as const;

/**
 * The squared maximum mean discrepancy between two batches (the biased estimate: every pair),
 * under the sum of Gaussian kernels exp(−‖x − y‖² / (m·σ²)) for m in
 * {@link MMD_BANDWIDTH_MULTIPLES}, σ² the mean squared distance over both batches held constant
 * (Gretton et al., JMLR 2012, eq. 5; the multi-kernel form of Long et al., "Learning
 * Transferable Features with Deep Adaptation Networks", ICML 2015).
 */
export const mmdLoss = (source: tf.Tensor, target: tf.Tensor): tf.Scalar => {
  const both = tf.concat([source, target], 0);
  const d = squaredDistances(both, both);
  // Read as a number, so no gradient flows through the bandwidth.
  const base = Math.max(tf.mean(d).dataSync()[0]!, 1e-6);
  const kernel = tf.addN(MMD_BANDWIDTH_MULTIPLES.map((m) => tf.exp(tf.div(d, -m * base))));
  const n = source.shape[0]!;
  const m = target.shape[0]!;
  const ss = tf.mean(tf.slice(kernel, [0, 0], [n, n]));
  const tt = tf.mean(tf.slice(kernel, [n, n], [m, m]));
  const st = tf.mean(tf.slice(kernel, [0, n], [n, m]));
  return tf.add(ss, tf.sub(tt, tf.mul(2, st))) as tf.Scalar;
};

/** DANN's weight after `step` of `rampSteps` steps: weight · (2 / (1 + e^(−10p)) − 1), p = step / rampSteps capped at 1 (Ganin & Lempitsky 2015, §5.2). */
export const reversalWeight = (weight: number, step: number, rampSteps: number): number => {
  const p = Math.min(1, Math.max(0, step / Math.max(1, rampSteps)));
  return weight * (2 / (1 + Math.exp(-10 * p)) - 1);
};

/** The identity forward; the gradient times −λ backward (DANN's gradient reversal layer). */
export const reverseGradient = (x: tf.Tensor, lambda: number): tf.Tensor =>
  tf.customGrad(((input: tf.Tensor) => ({ value: tf.clone(input), gradFunc: (dy: tf.Tensor) => tf.mul(dy, -lambda) })) as Parameters<typeof tf.customGrad>[0])(x);

/**
 * DANN's domain classifier: a hidden ReLU layer, then one logit (labelled domain = 1), with no
 * BatchNorm (users of DANN report that one in the discriminator destabilises it: TLlib issue 267).
 * Its variables are its own (the caller disposes them), initialised Glorot-uniform from `seed`.
 */
export class DomainClassifier {
  readonly variables: tf.Variable[];

  constructor(features: number, hidden: number, seed: number) {
    const glorot = (rows: number, cols: number, k: number): tf.Variable => {
      const limit = Math.sqrt(6 / (rows + cols));
      return tf.tidy(() => tf.variable(tf.randomUniform([rows, cols], -limit, limit, 'float32', deriveSeed(seed, k))));
    };
    const zeros = (n: number): tf.Variable => tf.tidy(() => tf.variable(tf.zeros([n])));
    this.variables = [glorot(features, hidden, 1), zeros(hidden), glorot(hidden, 1, 2), zeros(1)];
  }

  /** Binary cross-entropy of telling the labelled features (1) from the unlabelled (0), the features' gradient reversed by λ. */
  loss(labelled: tf.Tensor, unlabelled: tf.Tensor, lambda: number): tf.Scalar {
    const [w1, b1, w2, b2] = this.variables as [tf.Variable, tf.Variable, tf.Variable, tf.Variable];
    const f = reverseGradient(tf.concat([labelled, unlabelled], 0), lambda);
    const z = tf.reshape(tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(f, w1), b1)), w2), b2), [-1]);
    const y = tf.concat([tf.ones([labelled.shape[0]!]), tf.zeros([unlabelled.shape[0]!])]);
    return tf.losses.sigmoidCrossEntropy(y, z) as tf.Scalar;
  }

  dispose(): void {
    tf.dispose(this.variables);
  }
}
