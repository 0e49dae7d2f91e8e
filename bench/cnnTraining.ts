/**
 * Training a small MNIST CNN (conv 32 3×3, max-pool, conv 64 3×3, max-pool, dense 128, dense 10;
 * batch 64, SGD), samples/s: stock tfjs cpu, stock tfjs wasm, the same two with transferkit's
 * kernel pack, transferkit's own `transfer` (a full fine-tune phase of the same network with a new
 * 10-class head) on one thread and split over threads (`transferkit/tfjs/threads`), and PyTorch on
 * the same machine — measured side by side in one run.
 * Run: npm run bench -- cnn   (PyTorch is skipped, with a message, when python3-torch is missing:
 * `apt-get install python3-torch`)
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';
import { either as E } from 'fp-ts';
import { availableParallelism } from 'node:os';
import { fineTunePhase, makeRecipe, transfer, type TransferResult } from 'transferkit';
import { fromLayersModel, registerTransferKernels, type TfjsTransferModel } from 'transferkit/tfjs';
import { withThreads } from 'transferkit/tfjs/threads';

const BATCH = 64;
/** Each configuration trains for at least this long (after one warm-up batch), at most 40 batches. */
const MIN_MS = 8_000;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export const cnn = (): tfl.LayersModel => {
  const model = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu' }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 128, activation: 'relu' }),
      tfl.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
  model.compile({ optimizer: tf.train.sgd(0.01), loss: 'categoricalCrossentropy' });
  return model;
};

/** Samples/s training the CNN on the current backend, or the error that stopped it. */
const trainRate = async (): Promise<{ rate: number } | { error: string }> => {
  const model = cnn();
  const x = tf.randomNormal([BATCH, 28, 28, 1], 0, 1, 'float32', 1);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: BATCH }, (_, i) => i % 10), 'int32'), 10);
  try {
    await model.trainOnBatch(x, y); // warm-up
    const start = performance.now();
    let batches = 0;
    while (performance.now() - start < MIN_MS && batches < 40) {
      await model.trainOnBatch(x, y);
      batches++;
    }
    return { rate: (batches * BATCH) / ((performance.now() - start) / 1000) };
  } catch (error) {
    return { error: (error as Error).message.split('\n')[0]! };
  } finally {
    tf.dispose([x, y]);
    model.dispose();
  }
};

/**
 * Samples/s of `transfer`'s training steps: one fine-tune phase of the whole CNN (a new head on its
 * 128-unit layer, SGD 0.01, batch 64) over 1,280 random images, 2 epochs; the rate counts only the
 * steps (the phase's `trainMs`), on `threads` threads (1: `fromLayersModel`, the caller's thread).
 */
const transferRate = async (threads: number): Promise<{ rate: number } | { error: string }> => {
  const model = cnn();
  const n = 20 * BATCH;
  const x = tf.randomNormal([n, 28, 28, 1], 0, 1, 'float32', 1);
  const y = Array.from({ length: n }, (_, i) => i % 10);
  const threaded = threads > 1 ? await withThreads(model, { threads })() : undefined;
  try {
    const backbone = threaded ?? fromLayersModel(model);
    if (E.isLeft(backbone)) return { error: backbone.left.message };
    const { minSteps: _floor, ...phase } = fineTunePhase({ kind: 'all' });
    const recipe = makeRecipe({ tap: { kind: 'top' }, phases: [{ ...phase, epochs: 2, optimizer: 'sgd', learningRate: 0.01 }] });
    if (E.isLeft(recipe)) return { error: recipe.left.message };
    const result: E.Either<{ message: string }, TransferResult<TfjsTransferModel>> = await transfer(backbone.right, recipe.right, { x, y }, { seed: 1, batchSize: BATCH })();
    if (E.isLeft(result)) return { error: result.left.message };
    result.right.model.dispose();
    const phaseRun = result.right.history[0]!;
    return { rate: (n * phaseRun.epochs.length) / (phaseRun.trainMs / 1000) };
  } finally {
    if (threaded !== undefined && E.isRight(threaded)) await threaded.right.close();
    x.dispose();
    model.dispose();
  }
};

/** Where one training step's kernel time goes on the current backend: the five largest kernels. */
const stepProfile = async (): Promise<string> => {
  const model = cnn();
  const x = tf.randomNormal([BATCH, 28, 28, 1], 0, 1, 'float32', 1);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: BATCH }, (_, i) => i % 10), 'int32'), 10);
  try {
    await model.trainOnBatch(x, y);
    const info = await tf.profile(async () => {
      await model.trainOnBatch(x, y);
    });
    const byKernel = new Map<string, number>();
    for (const k of info.kernels) byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + (k.kernelTimeMs as number));
    const total = [...byKernel.values()].reduce((a, b) => a + b, 0);
    const top = [...byKernel].sort((a, b) => b[1] - a[1]).slice(0, 5);
    return `one step's kernel time ${total.toFixed(0)} ms: ${top.map(([k, ms]) => `${k} ${ms.toFixed(0)} ms`).join(', ')}`;
  } finally {
    tf.dispose([x, y]);
    model.dispose();
  }
};

const torchRate = (threads: number): { rate: number; version: string; threads: number } | { error: string } => {
  try {
    const script = fileURLToPath(new URL('./cnn_reference.py', import.meta.url));
    const out = JSON.parse(execFileSync('/usr/bin/python3', [script, '10', String(threads)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
    return { rate: median(out.samplesPerSecond), version: out.torch, threads: out.threads };
  } catch (error) {
    return { error: `${(error as Error).message.split('\n')[0]} (install it with: apt-get install python3-torch)` };
  }
};

export const run = async (): Promise<void> => {
  const rows: Array<[string, { rate: number } | { error: string }]> = [];
  for (const backend of ['cpu', 'wasm']) {
    await tf.setBackend(backend);
    rows.push([`stock tfjs ${backend}`, await trainRate()]);
  }
  let profile = '';
  for (const backend of ['cpu', 'wasm']) {
    await tf.setBackend(backend);
    const pack = registerTransferKernels(backend);
    if (E.isLeft(pack)) throw new Error(pack.left.message);
    rows.push([`tfjs ${backend} + transferkit kernels`, await trainRate()]);
    if (backend === 'wasm') {
      profile = await stepProfile();
      rows.push(['transferkit transfer(), wasm, 1 thread', await transferRate(1)]);
      const cores = availableParallelism();
      rows.push([`transferkit transfer(), wasm, ${cores} threads`, await transferRate(cores)]);
    }
    pack.right.unregister();
  }
  const torch = [torchRate(1), torchRate(2)];
  for (const t of torch) rows.push(['rate' in t ? `PyTorch ${t.version}, ${t.threads} thread${t.threads > 1 ? 's' : ''}` : 'PyTorch', t]);

  const ours = rows.find(([name]) => name === 'tfjs wasm + transferkit kernels')![1];
  const best = Math.max(...torch.map((t) => ('rate' in t ? t.rate : 0)));
  console.log(`MNIST CNN training, batch ${BATCH}, samples/s (each configuration ≥ ${MIN_MS / 1000} s after a warm-up batch); last column: its rate / transferkit's (tfjs wasm + kernels)`);
  for (const [name, result] of rows) {
    const cell = 'rate' in result ? result.rate.toFixed(1).padStart(8) : `  failed: ${result.error}`;
    const ratio = 'rate' in result && 'rate' in ours ? `   ${(result.rate / ours.rate).toFixed(2)}×` : '';
    console.log(`  ${name.padEnd(40)}${cell}${ratio}`);
  }
  if ('rate' in ours && best > 0) console.log(`  PyTorch (best) / transferkit: ${(best / ours.rate).toFixed(2)}×`);
  const threadedRow = rows.find(([name]) => name.startsWith('transferkit transfer(), wasm,') && !name.endsWith('1 thread'));
  if (threadedRow !== undefined && 'rate' in threadedRow[1] && best > 0) console.log(`  PyTorch (best) / transferkit transfer() on threads: ${(best / threadedRow[1].rate).toFixed(2)}×`);
  console.log(`  transferkit on wasm, ${profile}`);
};
