/**
 * After training from random weights, each BatchNorm's moving statistics are its inputs' mean and
 * variance over the training examples (session/batchNorm.ts), so inference normalises as training
 * did; a pretrained start leaves them alone.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { fromScratch, fullFineTune, transfer } from 'transferkit';
import { fromLayersModel } from 'transferkit/tfjs';
import { ok } from '../../fixtures/either';
import { denseModel, toyData } from '../../fixtures/models';
import { expectClose, expectNoLeakedTensors } from '../../fixtures/tensors';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
expectNoLeakedTensors();

describe('BatchNorm statistics after training from scratch', () => {
  it("are the population statistics of each BatchNorm's inputs over the training examples", async () => {
    const model = denseModel();
    const { x, y } = toyData([8], 40, 3);
    try {
      // 12 steps: the moving statistics alone would still be mostly their initial values.
      const result = ok(await transfer(ok(fromLayersModel(model)), fromScratch, { x, y }, { batchSize: 8, seed: 2, phases: { scratch: { steps: 12 } } })());
      const w = ok(result.model.weights());
      result.model.dispose();
      expect(result.history[0]!.batchNormsReestimated).toBe(1);
      // bn1 reads relu(x·W + b) of d1, with d1's trained weights.
      const [mean, variance] = tf.tidy(() => {
        const h = tf.relu(tf.add(tf.matMul(x as tf.Tensor2D, tf.tensor2d(w.get('d1/kernel')!, [8, 16])), tf.tensor1d(w.get('d1/bias')!)));
        const m = tf.moments(h, 0);
        return [m.mean.dataSync(), m.variance.dataSync()];
      });
      expectClose(w.get('bn1/moving_mean')!, mean!, 1e-5);
      expectClose(w.get('bn1/moving_variance')!, variance!, 1e-5);
    } finally {
      x.dispose();
      model.dispose();
    }
  });

  it('are left as the source had them on a pretrained start', async () => {
    const model = denseModel();
    const { x, y } = toyData([8], 40, 3);
    try {
      const before = Float32Array.from(model.getLayer('bn1').getWeights()[2]!.dataSync());
      const result = ok(await transfer(ok(fromLayersModel(model)), fullFineTune, { x, y }, { epochs: 1, seed: 2 })());
      const w = ok(result.model.weights());
      result.model.dispose();
      expect(result.history.map((h) => h.batchNormsReestimated)).toEqual([0, 0]);
      expect(w.get('bn1/moving_mean')).toEqual(before);
    } finally {
      x.dispose();
      model.dispose();
    }
  });
});
