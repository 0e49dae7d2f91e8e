/**
 * How far could data-parallel training on two threads go? The CNN of `npm run bench -- cnn`
 * (batch 64, SGD, `trainOnBatch`, wasm with transferkit's kernels) on one thread, against two
 * worker threads each training the same CNN on half a batch (32) at the same time. The second
 * leaves out what a real data-parallel step adds — exchanging and averaging gradients, about
 * 225,000 floats each way per step — so it is an upper bound, measured to decide whether
 * threaded training is worth building.
 * Run: npm run bench -- parallel
 */
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { either as E } from 'fp-ts';
import { setupBackend } from 'transferkit/tfjs';
import { cnn } from './cnnTraining';

const MIN_MS = 8_000;

/** Samples/s of `trainOnBatch` at `batch`, for at least MIN_MS after a warm-up batch. */
const rate = async (batch: number): Promise<number> => {
  const chosen = await setupBackend()();
  if (E.isLeft(chosen)) throw new Error(chosen.left.message);
  const model = cnn();
  const x = tf.randomNormal([batch, 28, 28, 1], 0, 1, 'float32', 1);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 10), 'int32'), 10);
  try {
    await model.trainOnBatch(x, y);
    let steps = 0;
    const start = performance.now();
    while (performance.now() - start < MIN_MS) {
      await model.trainOnBatch(x, y);
      steps++;
    }
    return (steps * batch) / ((performance.now() - start) / 1000);
  } finally {
    tf.dispose([x, y]);
    model.dispose();
  }
};

export const run = async (): Promise<void> => {
  const one = await rate(64);
  // The worker runs this file through tsx, as transferkit's own threads do from its sources.
  const boot = new URL('../src/backends/tfjs/threads/boot.mjs', import.meta.url);
  const workers = [0, 1].map(() => new Worker(boot, { workerData: { source: import.meta.url, batch: 32 } }));
  try {
    const rates = await Promise.all(workers.map((w) => new Promise<number>((resolve, reject) => w.once('message', resolve).once('error', reject))));
    const two = rates[0]! + rates[1]!;
    console.log('MNIST CNN training on wasm + transferkit kernels, samples/s (each ≥ 8 s after a warm-up batch)');
    console.log(`  one thread, batch 64:                 ${one.toFixed(1)}`);
    console.log(`  two threads at once, batch 32 each:   ${rates.map((r) => r.toFixed(1)).join(' + ')} = ${two.toFixed(1)}   (${(two / one).toFixed(2)}× one thread; no gradient exchange: an upper bound)`);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
};

if (!isMainThread && fileURLToPath(import.meta.url) === fileURLToPath((workerData as { source: string }).source)) {
  parentPort!.postMessage(await rate((workerData as { batch: number }).batch));
}
