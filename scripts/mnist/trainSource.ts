/**
 * Trains the MNIST source model on digits 0–4 (800 images each, in a seeded order) and writes it to
 * scripts/mnist/source/ (model.json + weights.bin). The source model is the app's own pretraining,
 * so plain tfjs `fit` is used. Run: npm run train:source  (about 6 minutes on 2 CPU cores).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { permutation, seededRandom } from 'transferkit';
import { PIXELS, SOURCE_DIGITS, SPLITS, take } from './data';
import { SOURCE_DIR, sourceArchitecture } from './sourceModel';

await tf.setBackend('cpu');
const train = take(SOURCE_DIGITS, 0, SPLITS.source.trainEnd);
const order = permutation(train.count, seededRandom(5));
const xs = new Float32Array(train.x.length);
const ys = new Int32Array(train.count);
order.forEach((from, to) => {
  xs.set(train.x.subarray(from * PIXELS, (from + 1) * PIXELS), to * PIXELS);
  ys[to] = train.y[from]!;
});
const x = tf.tensor4d(xs, [train.count, 28, 28, 1]);
const y = tf.oneHot(tf.tensor1d(ys, 'int32'), 5);
const model = sourceArchitecture();
model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
const started = performance.now();
await model.fit(x, y, {
  epochs: 2,
  batchSize: 32,
  shuffle: false,
  verbose: 0,
  callbacks: { onEpochEnd: async (epoch, logs) => console.log(`epoch ${epoch + 1}: loss ${logs?.loss?.toFixed(4)} accuracy ${logs?.acc?.toFixed(4)}`) },
});
const test = take(SOURCE_DIGITS, SPLITS.source.trainEnd, SPLITS.source.testEnd - SPLITS.source.trainEnd);
const tx = tf.tensor4d(test.x, [test.count, 28, 28, 1]);
const predicted = tf.tidy(() => tf.argMax(model.predict(tx) as tf.Tensor, 1).dataSync());
const accuracy = predicted.filter((p, i) => p === test.y[i]).length / test.count;
console.log(`held-out accuracy on digits 0-4 (${test.count} images): ${(100 * accuracy).toFixed(2)} %; trained in ${((performance.now() - started) / 1000).toFixed(0)} s`);
mkdirSync(SOURCE_DIR, { recursive: true });
await model.save(
  tf.io.withSaveHandler(async (artifacts) => {
    const weights = new Uint8Array(artifacts.weightData as ArrayBuffer);
    writeFileSync(new URL('weights.bin', SOURCE_DIR), weights);
    const json = { modelTopology: artifacts.modelTopology, format: 'layers-model', generatedBy: 'scripts/mnist/trainSource.ts', heldOutAccuracy: accuracy, weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }] };
    writeFileSync(new URL('model.json', SOURCE_DIR), `${JSON.stringify(json)}\n`);
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }),
);
tf.dispose([x, y, tx]);
console.log(`wrote ${SOURCE_DIR.pathname}`);
