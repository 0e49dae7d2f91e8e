/**
 * Trains the domain-adaptation benchmark's source (scripts/adapt/sourceModel.ts) on clean images
 * [0, 500) of all ten digits (20 epochs of Adam 1e-3, batch 32, each epoch in its own seeded
 * order), reports its accuracy on images [500, 600) and writes it to scripts/adapt/source/.
 * Plain tfjs `fit`: the source is the app's own pretraining. Run: npx tsx scripts/adapt/trainSource.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { either as E } from 'fp-ts';
import { permutation, seededRandom } from '../../src/core/random';
import { setupBackend } from 'transferkit/tfjs';
import { ADAPT_SOURCE_DIR, adaptSourceArchitecture } from './sourceModel';
import { CLASSES, PIXELS, RANGES, take } from './shifts';

const EPOCHS = 20;
const choice = await setupBackend()();
if (E.isLeft(choice)) throw new Error(choice.left.message);
const train = take(RANGES.sourceTrain);
const shuffled = (epoch: number): { x: tf.Tensor4D; y: tf.Tensor2D } => {
  const order = permutation(train.count, seededRandom(50 + epoch));
  const xs = new Float32Array(train.x.length);
  const ys = new Int32Array(train.count);
  order.forEach((from, to) => {
    xs.set(train.x.subarray(from * PIXELS, (from + 1) * PIXELS), to * PIXELS);
    ys[to] = train.y[from]!;
  });
  return { x: tf.tensor4d(xs, [train.count, 28, 28, 1]), y: tf.tidy(() => tf.oneHot(tf.tensor1d(ys, 'int32'), CLASSES) as tf.Tensor2D) };
};
const model = adaptSourceArchitecture();
model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
const started = performance.now();
for (let epoch = 0; epoch < EPOCHS; epoch++) {
  const { x, y } = shuffled(epoch);
  const history = await model.fit(x, y, { epochs: 1, batchSize: 32, shuffle: false, verbose: 0 });
  tf.dispose([x, y]);
  console.log(`epoch ${epoch + 1}: loss ${Number(history.history['loss']?.[0]).toFixed(4)} accuracy ${Number(history.history['acc']?.[0]).toFixed(4)}`);
}
const test = take(RANGES.sourceTest);
const tx = tf.tensor4d(test.x, [test.count, 28, 28, 1]);
const predicted = tf.tidy(() => tf.argMax(model.predict(tx) as tf.Tensor, 1).dataSync());
const accuracy = predicted.filter((p, i) => p === test.y[i]).length / test.count;
tf.dispose(tx);
console.log(`held-out accuracy on clean digits 0-9 (${test.count} images): ${(100 * accuracy).toFixed(2)} %; trained in ${((performance.now() - started) / 1000).toFixed(0)} s`);
mkdirSync(ADAPT_SOURCE_DIR, { recursive: true });
await model.save(
  tf.io.withSaveHandler(async (artifacts) => {
    writeFileSync(new URL('weights.bin', ADAPT_SOURCE_DIR), new Uint8Array(artifacts.weightData as ArrayBuffer));
    const json = { modelTopology: artifacts.modelTopology, format: 'layers-model', generatedBy: 'scripts/adapt/trainSource.ts', heldOutAccuracy: accuracy, weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }] };
    writeFileSync(new URL('model.json', ADAPT_SOURCE_DIR), `${JSON.stringify(json)}\n`);
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }),
);
console.log(`wrote ${ADAPT_SOURCE_DIR.pathname}`);
