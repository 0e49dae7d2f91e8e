/**
 * BatchNormalization in plain tfjs ops, for the layers tfjs cannot train: one without γ or β
 * (Keras's `scale=False` or `center=False`; Keras's InceptionV3 has `scale=False` in all 94 of
 * its BatchNorms). tfjs-core's batchNorm op keeps a missing γ for its backward pass as `undefined`
 * and fails there, so such a layer cannot train in inference mode; and tfjs-layers reads γ and β
 * unconditionally in training mode, so it cannot run there at all. The suffix (suffix.ts) runs such
 * a layer as these formulas instead, on the last axis, with γ = 1 and β = 0 where it has none.
 */
import * as tf from '@tensorflow/tfjs-core';
import { weight } from './compile';
import type { Layer } from './graph';

/** The layer's setting `key`, as its config gives it. */
const setting = (layer: Layer, key: string): unknown => (layer.getConfig() as Record<string, unknown>)[key];

/** Whether a BatchNormalization lacks γ or β and normalises the last axis of a rank-`rank` input: what runs here. */
export const partialBatchNorm = (layer: Layer, rank: number): boolean => {
  if (layer.getClassName() !== 'BatchNormalization') return false;
  const axis = setting(layer, 'axis');
  return (setting(layer, 'scale') === false || setting(layer, 'center') === false) && (axis === -1 || axis === rank - 1);
};

/** x·s + (β − μ·s), for s = γ/√(σ² + ε): the normalisation with statistics μ and σ², as gradients see it. */
const normalize = (layer: Layer, x: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor): tf.Tensor => {
  const channels = x.shape[x.rank - 1]!;
  const gamma = weight(layer, 'gamma') ?? tf.ones([channels]);
  const beta = weight(layer, 'beta') ?? tf.zeros([channels]);
  const scale = tf.div(gamma, tf.sqrt(tf.add(variance, Number(setting(layer, 'epsilon')))));
  return tf.add(tf.mul(x, scale), tf.sub(beta, tf.mul(mean, scale)));
};

/** Inference mode: normalised by the moving statistics, which are only read. */
export const normalizeInference = (layer: Layer, x: tf.Tensor): tf.Tensor => normalize(layer, x, weight(layer, 'moving_mean')!, weight(layer, 'moving_variance')!);

/**
 * Training mode, as tfjs-layers does it for a full BatchNorm (Ioffe & Szegedy 2015, Alg. 1):
 * normalised by the batch's mean and (biased) variance over every axis but the last, and each
 * moving statistic moved toward the batch's: m ← m − (m − b)·(1 − momentum).
 */
export const normalizeTraining = (layer: Layer, x: tf.Tensor): tf.Tensor => {
  const { mean, variance } = tf.moments(x, x.shape.slice(0, -1).map((_, i) => i));
  const decay = 1 - Number(setting(layer, 'momentum'));
  for (const [name, batch] of [['moving_mean', mean], ['moving_variance', variance]] as const) {
    const moving = layer.weights.find((w) => (w.originalName ?? w.name).endsWith(name))!;
    tf.tidy(() => {
      const old = moving.read();
      moving.write(tf.sub(old, tf.mul(tf.sub(old, batch), decay)));
    });
  }
  return normalize(layer, x, mean, variance);
};
