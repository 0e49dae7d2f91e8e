/**
 * Partial fine-tune of MobileNetV2's last block (block_16 and Conv_1, with a new linear head) for
 * 5 epochs, on real MNIST digits 0–4 (100 per digit to train, 40 per digit to test, upsampled to
 * 96² RGB), side by side in one run:
 *   - transferkit on wasm with its kernels: the frozen part runs once, compiled, and is cached;
 *   - the same with `withThreads` (one thread per core): its threads cache the frozen part and
 *     share each training step;
 *   - tfjs `fit` with the frozen layers inside the model, same backend, same kernels;
 *   - tfjs `fit` on stock cpu: one epoch over the first 64 images, timed, then scaled to the same
 *     5 epochs × 500 images (the full run would take hours).
 * Same weights (seeded), Adam 1e-3, batch 32. The MobileNetV2 has random weights: the point is
 * the time for the same training, and accuracy is reported to show it is the same training.
 * Run: npm run bench -- finetune
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';
import { either as E } from 'fp-ts';
import { evaluate, transfer, type Recipe } from 'transferkit';
import { availableParallelism } from 'node:os';
import { fromLayersModel, registerTransferKernels, type TfjsBackbone } from 'transferkit/tfjs';
import { withThreads } from 'transferkit/tfjs/threads';
import { SIDE, SOURCE_DIGITS, take } from '../scripts/mnist/data';
import { mobileNetV2 } from './support/mobilenetv2';

const SIZE = 96;
const EPOCHS = 5;
const BATCH = 32;
const TOP = 'out_relu';
/** The last block's layers: what trains, besides the head. */
const LAST_BLOCK = /^(block_16_|Conv_1)/;

const images = (x: Float32Array, count: number): tf.Tensor4D =>
  tf.tidy(() => tf.tile(tf.image.resizeBilinear(tf.tensor4d(x, [count, SIDE, SIDE, 1]), [SIZE, SIZE]), [1, 1, 1, 3]));

/** A Keras-style transfer model: the backbone up to `TOP`, frozen below the last block, plus a new head. */
const kerasStyle = (): tfl.LayersModel => {
  const base = mobileNetV2(SIZE);
  const features = base.getLayer(TOP).output as tfl.SymbolicTensor;
  const pooled = tfl.layers.globalAveragePooling2d({}).apply(features) as tfl.SymbolicTensor;
  const probs = tfl.layers.dense({ units: SOURCE_DIGITS.length, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 9 }) }).apply(pooled) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: base.inputs, outputs: probs });
  for (const layer of model.layers) layer.trainable = LAST_BLOCK.test(layer.name) || layer.name.startsWith('dense');
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return model;
};

const fitRun = async (x: tf.Tensor, y: tf.Tensor, testX: tf.Tensor, testY: tf.Tensor, epochs: number): Promise<{ ms: number; accuracy: number; note?: string }> => {
  const model = kerasStyle();
  try {
    const start = performance.now();
    await model.fit(x, y, { epochs, batchSize: BATCH, shuffle: true, verbose: 0 });
    const ms = performance.now() - start;
    const [, acc] = model.evaluate(testX, testY, { batchSize: BATCH }) as tf.Scalar[];
    return { ms, accuracy: (await acc!.data())[0]! };
  } finally {
    model.dispose();
  }
};

export const run = async (): Promise<void> => {
  const train = take(SOURCE_DIGITS, 0, 100);
  const test = take(SOURCE_DIGITS, 100, 40);
  const rows: Array<[string, { ms: number; accuracy: number; note?: string }]> = [];

  await tf.setBackend('wasm');
  const pack = registerTransferKernels('wasm');
  if (E.isLeft(pack)) throw new Error(pack.left.message);
  const x = images(train.x, train.count);
  const testX = images(test.x, test.count);
  const y = tf.tensor1d(train.y, 'float32');
  const testY = tf.tensor1d(test.y, 'float32');

  // transferkit: one phase training the last block's weighted layers and the head.
  const source = mobileNetV2(SIZE);
  const backbone = fromLayersModel(source, { top: TOP });
  if (E.isLeft(backbone)) throw new Error(backbone.left.message);
  const lastBlock = backbone.right.layers.filter((l) => LAST_BLOCK.test(l.name) && l.params > 0).length;
  const recipe: Recipe = {
    kind: 'partial-fine-tune',
    start: 'pretrained',
    tap: { kind: 'top' },
    trainable: { kind: 'top-layers', count: lastBlock },
    phases: [{ name: 'last block', trains: { kind: 'top-layers', count: lastBlock }, epochs: EPOCHS, learningRate: 1e-3, optimizer: 'adam', regularization: { l2: 0 } }],
    head: { hidden: [], dropout: 0 },
    rationale: [],
    warnings: [],
  };
  const transferRun = async (name: string, on: TfjsBackbone): Promise<void> => {
    const start = performance.now();
    const result = await transfer(on, recipe, { x, y: Array.from(train.y) }, { batchSize: BATCH, seed: 1 })();
    const ms = performance.now() - start;
    if (E.isLeft(result)) throw new Error(result.left.message);
    const scored = await evaluate(result.right.model, { x: testX, y: Array.from(test.y) }, SOURCE_DIGITS.length)();
    if (E.isLeft(scored)) throw new Error(scored.left.message);
    const phase = result.right.history[0]!;
    rows.push([name, { ms, accuracy: scored.right.accuracy, note: `(caching the frozen part: ${(phase.cacheMs / 1000).toFixed(1)} s on ${phase.cacheThreads} thread(s); steps on ${phase.trainThreads})` }]);
    console.log(`  … ${name} done in ${(ms / 1000).toFixed(1)} s`);
    result.right.model.dispose();
  };
  await transferRun('transferkit, wasm + kernels', backbone.right);
  // The same on threads (their start-up is outside the timing, as a backbone is kept for many
  // calls; sending the phase's trainable part to them is inside it).
  const cores = availableParallelism();
  const launch = performance.now();
  const threaded = await withThreads(source, { top: TOP, threads: cores })();
  if (E.isLeft(threaded)) throw new Error(threaded.left.message);
  console.log(`  … withThreads started ${cores} threads in ${((performance.now() - launch) / 1000).toFixed(1)} s (not in the timing)`);
  await transferRun(`transferkit, wasm + kernels, ${cores} threads`, threaded.right);
  await threaded.right.close();
  source.dispose();

  rows.push(['tfjs fit, wasm + transferkit kernels', await fitRun(x, y, testX, testY, EPOCHS)]);
  console.log(`  … tfjs fit on wasm done in ${(rows[2]![1].ms / 1000).toFixed(1)} s`);
  pack.right.unregister();

  await tf.setBackend('cpu');
  const few = 64;
  const [fewX, fewY] = [tf.slice(x, 0, few), tf.slice(y, 0, few)];
  const one = await fitRun(fewX, fewY, testX, testY, 1);
  rows.push(['tfjs fit, stock cpu (scaled)', { ms: (one.ms * EPOCHS * train.count) / few, accuracy: Number.NaN, note: `(1 epoch on ${few} images took ${(one.ms / 1000).toFixed(1)} s)` }]);
  tf.dispose([x, testX, y, testY, fewX, fewY]);

  const ours = rows[0]![1].ms;
  console.log(`Partial fine-tune of MobileNetV2 (${SIZE}², random weights)'s last block + a new head, ${EPOCHS} epochs, ${train.count} MNIST digits, batch ${BATCH}`);
  for (const [name, r] of rows) {
    console.log(`  ${name.padEnd(44)} ${(r.ms / 1000).toFixed(1).padStart(7)} s   test accuracy ${Number.isNaN(r.accuracy) ? '  —  ' : `${(100 * r.accuracy).toFixed(1)} %`}   ${(r.ms / ours).toFixed(1)}× transferkit's time ${r.note ?? ''}`);
  }
  console.log(`  tfjs fit on wasm / transferkit on ${cores} threads: ${(rows[2]![1].ms / rows[1]![1].ms).toFixed(1)}×`);
};
