/**
 * Clean failure, forced at every stage (issue "Training that works on a real pretrained model",
 * item 5): a source model holds a {@link Faulty} layer in its backbone, and each preset runs once
 * cleanly to count how often that layer is built and called; then once per count, failing at that
 * build or call. Every forced failure must come back as a `Left` (never a throw), leave no tensor
 * behind, and leave the source with the same weights and the same predictions, bit for bit.
 * Shared by the cpu and the wasm test files.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { either as E } from 'fp-ts';
import { expect, it } from 'vitest';
import { earlierLayerTap, featureExtractor, fromScratch, fullFineTune, partialFineTune, transfer, type Recipe } from 'transferkit';
import { fromLayersModel } from 'transferkit/tfjs';
import { Faulty } from '../../fixtures/faultyLayer';
import { snapshot, toyData } from '../../fixtures/models';

const init = (seed: number) => tfl.initializers.glorotUniform({ seed });

/** conv → BatchNorm → ReLU → Faulty → conv → BatchNorm → ReLU → pooling → dense(3). */
const faultyModel = (): tfl.LayersModel =>
  tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [6, 6, 2], filters: 4, kernelSize: 3, padding: 'same', name: 'c1', kernelInitializer: init(1) }),
      tfl.layers.batchNormalization({ name: 'bn1' }),
      tfl.layers.activation({ activation: 'relu', name: 'r1' }),
      new Faulty({ name: 'faulty' }),
      tfl.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', name: 'c2', kernelInitializer: init(2) }),
      tfl.layers.batchNormalization({ name: 'bn2' }),
      tfl.layers.activation({ activation: 'relu', name: 'r2' }),
      tfl.layers.globalAveragePooling2d({ name: 'gap' }),
      tfl.layers.dense({ units: 3, activation: 'softmax', name: 'classifier', kernelInitializer: init(3) }),
    ],
  });

const presets: ReadonlyArray<readonly [string, Recipe]> = [
  ['featureExtractor', featureExtractor],
  ['earlierLayerTap', earlierLayerTap],
  ['partialFineTune', partialFineTune],
  ['fullFineTune', fullFineTune],
  ['fromScratch', fromScratch],
];

const options = { epochs: 2, batchSize: 8, seed: 3 } as const;

/** Registers one test per preset: a clean run, then a failure at each of its builds and calls. */
export const forcedFailureTests = (): void => {
  it.each(presets)('%s: a failure forced at any build or call of the source graph is a Left that frees everything and leaves the source as it was', async (_, recipe) => {
    const model = faultyModel();
    const { x, y } = toyData([6, 6, 2], 24, 3);
    const probe = tf.randomNormal([5, 6, 6, 2], 0, 1, 'float32', 11);
    try {
      Faulty.reset();
      const predict = (): Float32Array => tf.tidy(() => Float32Array.from((model.predict(probe) as tf.Tensor).dataSync()));
      const weights = snapshot(model);
      const predictions = predict();
      const backbone = fromLayersModel(model);
      if (E.isLeft(backbone)) throw new Error(backbone.left.message);

      Faulty.reset();
      const clean = await transfer(backbone.right, recipe, { x, y }, options)();
      if (E.isLeft(clean)) throw new Error(clean.left.message);
      clean.right.model.dispose();
      const { calls, builds } = Faulty;
      // Every preset caches or trains through the layer, and builds a copy of it.
      expect(calls).toBeGreaterThan(0);
      expect(builds).toBeGreaterThan(0);

      const faults = [...Array.from({ length: calls }, (_, i) => ({ call: i + 1 })), ...Array.from({ length: builds }, (_, i) => ({ build: i + 1 }))];
      for (const failAt of faults) {
        const before = tf.memory().numTensors;
        Faulty.reset(failAt);
        const result = await transfer(backbone.right, recipe, { x, y }, options)();
        const where = JSON.stringify(failAt);
        expect(E.isLeft(result), where).toBe(true);
        if (E.isRight(result)) result.right.model.dispose();
        else expect(result.left.message, where).toContain('forced failure');
        expect(tf.memory().numTensors, where).toBe(before);
        Faulty.reset();
        expect(predict(), where).toEqual(predictions);
      }
      expect(snapshot(model)).toEqual(weights);
    } finally {
      Faulty.reset();
      tf.dispose([x, probe]);
      model.dispose();
    }
  });
};
