/**
 * The loss the head trains on cannot get stuck: it is computed from logits, so every example that
 * is still wrong keeps a gradient. The case below is a head on large features (a dense layer with
 * weights of standard deviation 7.5, standing in for a pooled ReLU6 map of a real network): the new
 * head's first outputs are far from uniform, and with −log of clipped probabilities (at 1e-7) 9 of
 * the 30 examples fell below the clip and were never learned: the loss ended at 4.84, 9/30 × 16.1.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { featureExtractor, transfer } from 'transferkit';
import { fromLayersModel } from 'transferkit/tfjs';
import { ok } from '../../fixtures/either';
import { expectNoLeakedTensors } from '../../fixtures/tensors';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
expectNoLeakedTensors();

/** Input 16 → dense 64 (ReLU, weights of std 7.5) → softmax classifier; top feature layer `features`. */
const largeFeatures = (): tfl.LayersModel =>
  tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [16], units: 64, activation: 'relu', name: 'features', kernelInitializer: tfl.initializers.randomNormal({ stddev: 7.5, seed: 3 }) }),
      tfl.layers.dense({ units: 3, activation: 'softmax', name: 'classifier' }),
    ],
  });

describe('the head trains on logits', () => {
  it('learns every example of a head on large features: none is left with a vanishing gradient', async () => {
    const source = largeFeatures();
    const x = tf.randomNormal([30, 16], 0, 1, 'float32', 11);
    const y = Array.from({ length: 30 }, (_, i) => i % 3);
    try {
      const backbone = ok(fromLayersModel(source));
      const result = ok(await transfer(backbone, featureExtractor, { x, y }, { seed: 2 })());
      try {
        const probs = ok(await result.model.predict(x)());
        const trueProbability = y.map((label, i) => probs.data[i * 3 + label]!);
        // The run's own final training loss: below 0.01 from logits, 4.84 with the clipped log.
        const last = result.history[0]!.epochs.at(-1)!;
        expect(last.loss).toBeLessThan(0.01);
        expect(trueProbability.filter((p) => p < 0.5)).toEqual([]);
      } finally {
        result.model.dispose();
      }
    } finally {
      x.dispose();
      source.dispose();
    }
  });

  it('predicts probabilities: the whole model ends in the softmax over the logits the head trained on', async () => {
    const source = largeFeatures();
    const x = tf.randomNormal([6, 16], 0, 1, 'float32', 12);
    try {
      const backbone = ok(fromLayersModel(source));
      const result = ok(await transfer(backbone, featureExtractor, { x, y: [0, 1, 2, 0, 1, 2] }, { seed: 2, epochs: 1 })());
      try {
        const probs = ok(await result.model.predict(x)());
        for (let i = 0; i < 6; i++) {
          const row = Array.from(probs.data.subarray(i * 3, i * 3 + 3));
          expect(row.every((p) => p >= 0 && p <= 1)).toBe(true);
          expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
        }
      } finally {
        result.model.dispose();
      }
    } finally {
      x.dispose();
      source.dispose();
    }
  });
});
