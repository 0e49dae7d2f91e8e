/**
 * Trains an MNIST source model on digits 0–4 (800 images each; 20 epochs of Adam 1e-3, batch 32,
 * each epoch in its own seeded order) and writes it to its directory (model.json + weights.bin):
 * `cnn` to scripts/mnist/source/, `mobilenet` to scripts/mnist/source-mobilenet/ (sourceModel.ts).
 * The source model is the app's own pretraining, so plain tfjs `fit` is used, on the backend
 * `setupBackend` picks. Run: npm run train:source [-- mobilenet]  (the CNN takes about 70 s on
 * 2 CPU cores with wasm).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { either as E } from 'fp-ts';
import { permutation, seededRandom } from '../../src/core/random';
import { setupBackend } from 'transferkit/tfjs';
import { PIXELS, SOURCE_DIGITS, SPLITS, take } from './data';
import { SOURCES, type SourceName } from './sourceModel';

const EPOCHS = 20;
const name = (process.argv[2] ?? 'cnn') as SourceName;
if (!(name in SOURCES)) throw new Error(`unknown source '${name}'; the sources are ${Object.keys(SOURCES).join(', ')}`);
const { dir: SOURCE_DIR, architecture } = SOURCES[name];
const choice = await setupBackend()();
if (E.isLeft(choice)) throw new Error(choice.left.message);
console.log(`${name}: ${choice.right.description.split(';')[0]})`);
const train = take(SOURCE_DIGITS, 0, SPLITS.source.trainEnd);
/** The training set in the seeded order of one epoch (tfjs's own `shuffle` uses Math.random). */
const shuffled = (epoch: number): { x: tf.Tensor4D; y: tf.Tensor2D } => {
  const order = permutation(train.count, seededRandom(5 + epoch));
  const xs = new Float32Array(train.x.length);
  const ys = new Int32Array(train.count);
  order.forEach((from, to) => {
    xs.set(train.x.subarray(from * PIXELS, (from + 1) * PIXELS), to * PIXELS);
    ys[to] = train.y[from]!;
  });
  return { x: tf.tensor4d(xs, [train.count, 28, 28, 1]), y: tf.tidy(() => tf.oneHot(tf.tensor1d(ys, 'int32'), 5) as tf.Tensor2D) };
};
const model = architecture();
model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
const started = performance.now();
for (let epoch = 0; epoch < EPOCHS; epoch++) {
  const { x, y } = shuffled(epoch);
  const history = await model.fit(x, y, { epochs: 1, batchSize: 32, shuffle: false, verbose: 0 });
  tf.dispose([x, y]);
  console.log(`epoch ${epoch + 1}: loss ${Number(history.history['loss']?.[0]).toFixed(4)} accuracy ${Number(history.history['acc']?.[0]).toFixed(4)}`);
}
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
    const json = { modelTopology: artifacts.modelTopology, format: 'layers-model', generatedBy: `scripts/mnist/trainSource.ts ${name}`, heldOutAccuracy: accuracy, weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }] };
    writeFileSync(new URL('model.json', SOURCE_DIR), `${JSON.stringify(json)}\n`);
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }),
);
tf.dispose(tx);
console.log(`wrote ${SOURCE_DIR.pathname}`);
