/**
 * A BatchNormalization without γ (Keras's `scale=False`, in every BatchNorm of Keras's InceptionV3)
 * trains: tfjs's own op fails in its backward pass there (inference mode) and tfjs-layers fails at
 * once in training mode, so the suffix runs such a layer as its formula (normalization.ts). Its
 * values are tfjs's, and it moves its moving statistics as tfjs-layers moves a full BatchNorm's.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { fromScratch, partialFineTune, transfer } from 'transferkit';
import { fromLayersModel } from 'transferkit/tfjs';
import { normalizeInference, normalizeTraining, partialBatchNorm } from '../../../src/backends/tfjs/normalization';
import { ok } from '../../fixtures/either';
import { snapshot, toyData } from '../../fixtures/models';
import { expectClose, expectNoLeakedTensors } from '../../fixtures/tensors';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
expectNoLeakedTensors();

/** conv → BatchNorm(scale: false) → ReLU → pooling → classifier, its moving statistics away from 0 and 1. */
const inceptionLike = (): tfl.LayersModel => {
  const input = tfl.input({ shape: [8, 8, 3] });
  const conv = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', useBias: false, name: 'conv', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }).apply(input);
  const bn = tfl.layers.batchNormalization({ scale: false, name: 'bn' });
  const relu = tfl.layers.activation({ activation: 'relu', name: 'relu' }).apply(bn.apply(conv));
  const pooled = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(relu);
  const model = tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 3, activation: 'softmax', name: 'classifier' }).apply(pooled) as tfl.SymbolicTensor });
  tf.tidy(() => bn.setWeights([tf.tensor1d([0.1, -0.2, 0.3, 0]), tf.tensor1d([0.5, -0.5, 1, 0]), tf.tensor1d([2, 0.5, 1, 3])]));
  return model;
};

describe('a BatchNorm without γ', () => {
  it('is the layer this runs as its formula, and no other', () => {
    const model = inceptionLike();
    try {
      expect(partialBatchNorm(model.getLayer('bn'), 4)).toBe(true);
      expect(partialBatchNorm(model.getLayer('conv'), 4)).toBe(false);
      const full = tfl.layers.batchNormalization({});
      expect(partialBatchNorm(full, 4)).toBe(false);
    } finally {
      model.dispose();
    }
  });

  it('normalises as tfjs does in inference mode, and as a full BatchNorm with γ = 1 does in training mode, moving statistics included', () => {
    const model = inceptionLike();
    const bn = model.getLayer('bn');
    const full = tfl.layers.batchNormalization({ name: 'full' });
    const x = tf.randomNormal([5, 8, 8, 4], 1, 2, 'float32', 3);
    try {
      full.apply(tfl.input({ shape: [8, 8, 4] }));
      const [beta, mean, variance] = bn.getWeights();
      tf.tidy(() => full.setWeights([tf.onesLike(beta!), beta!, mean!, variance!]));
      tf.tidy(() => expectClose(normalizeInference(bn, x).dataSync(), (bn.apply(x, { training: false }) as tf.Tensor).dataSync(), 1e-5));
      const ours = tf.tidy(() => normalizeTraining(bn, x).dataSync());
      const theirs = tf.tidy(() => (full.apply(x, { training: true }) as tf.Tensor).dataSync());
      expectClose(ours, theirs, 1e-5);
      const [, , oursMean, oursVariance] = [undefined, ...bn.getWeights()];
      const [, , theirsMean, theirsVariance] = full.getWeights();
      expectClose(oursMean!.dataSync(), theirsMean!.dataSync(), 1e-6);
      expectClose(oursVariance!.dataSync(), theirsVariance!.dataSync(), 1e-6);
    } finally {
      x.dispose();
      full.dispose();
      model.dispose();
    }
  });

  it('trains in a partial fine-tune that starts at it, leaving the source as it was', async () => {
    const source = inceptionLike();
    const backbone = ok(fromLayersModel(source));
    const { x, y } = toyData([8, 8, 3], 18, 3);
    try {
      const before = snapshot(source);
      const result = ok(await transfer(backbone, partialFineTune, { x, y }, { seed: 1, batchSize: 6, phases: { head: { steps: 5 }, 'fine-tune': { steps: 5 } } })());
      expect(result.history[1]!.epochs.every((e) => Number.isFinite(e.loss))).toBe(true);
      const trained = ok(result.model.weights());
      // β trained (the suffix's one weight); the moving statistics did not move (inference mode).
      expect([...trained.get('bn/beta')!]).not.toEqual([...before.get('bn/beta')!]);
      expect([...trained.get('bn/moving_mean')!]).toEqual([...before.get('bn/moving_mean')!]);
      result.model.dispose();
      expect(snapshot(source)).toEqual(before);
    } finally {
      x.dispose();
      source.dispose();
    }
  });

  it('trains from scratch (training mode)', async () => {
    const source = inceptionLike();
    const backbone = ok(fromLayersModel(source));
    const { x, y } = toyData([8, 8, 3], 18, 3);
    try {
      const result = ok(await transfer(backbone, fromScratch, { x, y }, { seed: 1, batchSize: 6, epochs: 2 })());
      expect(result.history[0]!.epochs.every((e) => Number.isFinite(e.loss))).toBe(true);
      expect(result.history[0]!.batchNormsReestimated).toBe(1);
      result.model.dispose();
    } finally {
      x.dispose();
      source.dispose();
    }
  });
});
