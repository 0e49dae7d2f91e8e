/**
 * Training and saving a committed MNIST source model, shared by the source scripts
 * (scripts/mnist/trainSource.ts, scripts/adapt/trainSource.ts). The source is the app's own
 * pretraining, so plain tfjs `fit` is used, each epoch in its own seeded order (tfjs's `shuffle`
 * uses Math.random).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { permutation, seededRandom } from '../../src/core/random';

/** Images of 28 × 28 × 1, row by row, and their class ids. */
export interface Digits {
  readonly x: Float32Array;
  readonly y: Int32Array;
  readonly count: number;
}

const PIXELS = 28 * 28;

/** Trains `model` for `epochs` epochs of Adam 1e-3 in batches of 32, epoch e in the order seeded `seedBase + e`, logging each. */
export const fitSource = async (model: tfl.LayersModel, train: Digits, classes: number, epochs: number, seedBase: number): Promise<void> => {
  const shuffled = (epoch: number): { x: tf.Tensor4D; y: tf.Tensor2D } => {
    const order = permutation(train.count, seededRandom(seedBase + epoch));
    const xs = new Float32Array(train.x.length);
    const ys = new Int32Array(train.count);
    order.forEach((from, to) => {
      xs.set(train.x.subarray(from * PIXELS, (from + 1) * PIXELS), to * PIXELS);
      ys[to] = train.y[from]!;
    });
    return { x: tf.tensor4d(xs, [train.count, 28, 28, 1]), y: tf.tidy(() => tf.oneHot(tf.tensor1d(ys, 'int32'), classes) as tf.Tensor2D) };
  };
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  for (let epoch = 0; epoch < epochs; epoch++) {
    const { x, y } = shuffled(epoch);
    const history = await model.fit(x, y, { epochs: 1, batchSize: 32, shuffle: false, verbose: 0 });
    tf.dispose([x, y]);
    console.log(`epoch ${epoch + 1}: loss ${Number(history.history['loss']?.[0]).toFixed(4)} accuracy ${Number(history.history['acc']?.[0]).toFixed(4)}`);
  }
};

/** The share of `set` the model classifies right. */
export const accuracyOn = (model: tfl.LayersModel, set: Digits): number => {
  const predicted = tf.tidy(() => tf.argMax(model.predict(tf.tensor4d(set.x, [set.count, 28, 28, 1])) as tf.Tensor, 1).dataSync());
  return predicted.filter((p, i) => p === set.y[i]).length / set.count;
};

/** Writes the model to `dir` as model.json (with what generated it and its held-out accuracy) and weights.bin. */
export const saveSource = async (model: tfl.LayersModel, dir: URL, generatedBy: string, heldOutAccuracy: number): Promise<void> => {
  mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      writeFileSync(new URL('weights.bin', dir), new Uint8Array(artifacts.weightData as ArrayBuffer));
      const json = { modelTopology: artifacts.modelTopology, format: 'layers-model', generatedBy, heldOutAccuracy, weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }] };
      writeFileSync(new URL('model.json', dir), `${JSON.stringify(json)}\n`);
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  console.log(`wrote ${dir.pathname}`);
};
