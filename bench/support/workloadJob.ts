/**
 * One (job, implementation) pair of `npm run bench -- workload`, in a process of its own so that
 * the process's peak resident memory is that job's. bench/workload.ts starts it:
 *
 *     node --import tsx bench/support/workloadJob.ts DATA JOB IMPLEMENTATION EPOCHS
 *
 * JOB is `a`, `b` or `c` (see WORKLOAD_JOBS); IMPLEMENTATION is `transferkit-1` (the caller's
 * thread), `transferkit-N` (`withThreads`, N worker threads) or `fit` (tfjs `fit` of a Keras-style
 * model with the frozen layers inside it, on the same wasm backend with transferkit's kernels).
 * EPOCHS may be fewer than the job's (the caller then scales); TRAIN_IMAGES in the environment
 * may also cut the training images: for `fit`, whose full run would take too long, and for a
 * profile of (c), whose kernel records over a whole epoch at 224² exhaust the wasm heap.
 * Prints one JSON line: per epoch the seconds since the clock started and the held-out accuracy,
 * the peak resident memory, and notes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';
import { either as E } from 'fp-ts';
import { transfer } from 'transferkit';
import { fromLayersModel, registerTransferKernels, type TfjsBackbone } from 'transferkit/tfjs';
import { withThreads } from 'transferkit/tfjs/threads';
import { SIDE } from '../../scripts/mnist/data';
import { loadMobileNetV2 } from '../../scripts/pretrained/model';
import { CLASSES, digitsAt224, jobRecipe, peakMB, TOP, WORKLOAD_JOBS, type JobName, type JobResult } from './workloadJobs';

const [dataDir, jobName, implementation, epochsArg] = process.argv.slice(2) as [string, JobName, string, string];
const job = WORKLOAD_JOBS[jobName];
const epochs = Number(epochsArg);

/** The digits bench/workload.ts wrote, at 224² RGB: bilinear with half-pixel centres, as workload.py resizes. */
const load = (name: 'train' | 'val', limit?: number): { x: tf.Tensor4D; y: Int32Array } => {
  const raw = readFileSync(join(dataDir, `${name}_x.bin`));
  const labels = readFileSync(join(dataDir, `${name}_y.bin`));
  const all = new Int32Array(labels.buffer, labels.byteOffset, labels.byteLength / 4);
  const count = Math.min(limit ?? all.length, all.length);
  const pixels = new Float32Array(raw.buffer, raw.byteOffset, count * SIDE * SIDE);
  return { x: digitsAt224(pixels, count), y: all.slice(0, count) };
};

/** transferkit: one phase of `transfer`, with the held-out digits as its validation set. */
const viaTransfer = async (threads: number): Promise<JobResult> => {
  const limit = process.env.TRAIN_IMAGES === undefined ? undefined : Number(process.env.TRAIN_IMAGES);
  const source = await loadMobileNetV2();
  const train = load('train', limit);
  const val = load('val');
  const notes: string[] = limit === undefined ? [] : [`${train.y.length} training images`];
  const start = performance.now();
  let backbone: TfjsBackbone;
  let close = async (): Promise<void> => {};
  if (threads > 1) {
    const started = await withThreads(source, { top: TOP, threads })();
    if (E.isLeft(started)) throw new Error(started.left.message);
    backbone = started.right;
    close = () => started.right.close();
    notes.push(`starting ${threads} threads took ${((performance.now() - start) / 1000).toFixed(1)} s (inside the time)`);
  } else {
    const made = fromLayersModel(source, { top: TOP });
    if (E.isLeft(made)) throw new Error(made.left.message);
    backbone = made.right;
  }
  const { recipe, trainedLayers: count } = jobRecipe(jobName, backbone.layers, epochs);
  // An epoch's validation accuracy is known once the next epoch's first batch is reported (one
  // step late), and the last one when `transfer` returns.
  const stamps: number[] = [];
  const run = () => transfer(backbone, recipe, { x: train.x, y: Array.from(train.y) }, {
    batchSize: job.batch,
    seed: 1,
    classes: CLASSES,
    validation: { data: { x: val.x, y: Array.from(val.y) } },
    divergenceGuard: false,
    onProgress: (p) => {
      if (p.batch === 1 && p.epoch > 1) stamps.push(performance.now());
    },
  })();
  // With WORKLOAD_PROFILE=1 (one thread), where the kernel time goes, caching and steps together.
  let result: Awaited<ReturnType<typeof run>> | undefined;
  if (process.env.WORKLOAD_PROFILE === '1') {
    const info = await tf.profile(async () => {
      result = await run();
    });
    const byKernel = new Map<string, number>();
    // Kernels only (FusedConv2D, PadV2, ...): the op scopes around them (fusedConv2d__op, forward)
    // would count their time twice.
    for (const k of info.kernels.filter((k) => /^[A-Z_]/.test(k.name) && !k.name.endsWith('__op'))) byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + (k.kernelTimeMs as number));
    const total = [...byKernel.values()].reduce((a, b) => a + b, 0);
    const top = [...byKernel].sort((a, b) => b[1] - a[1]).slice(0, 10);
    notes.push(`kernel time ${(total / 1000).toFixed(1)} s: ${top.map(([k, ms]) => `${k} ${(ms / 1000).toFixed(1)} s`).join(', ')}`);
  } else result = await run();
  stamps.push(performance.now());
  if (result === undefined) throw new Error('transfer did not finish');
  if (E.isLeft(result)) throw new Error(result.left.message);
  await close();
  const phase = result.right.history[0]!;
  notes.push(`caching the frozen part ${(phase.cacheMs / 1000).toFixed(1)} s on ${phase.cacheThreads} thread(s); steps on ${phase.trainThreads}`);
  if (count > 0) notes.push(`${count} layers with weights train besides the head`);
  result.right.model.dispose();
  tf.dispose([train.x, val.x]);
  source.dispose();
  return { epochs: phase.epochs.map((e, i) => ({ seconds: (stamps[i]! - start) / 1000, accuracy: e.validationAccuracy! })), peakMB: peakMB(), notes, cacheSeconds: phase.cacheMs / 1000 };
};

/**
 * The largest batch tfjs `fit` runs at 224² inside the wasm heap (4 GB): at 16 and 32 it fails
 * with "memory access out of bounds", as fit keeps every layer's activations of a batch, frozen or
 * not.
 */
const FIT_BATCH = 8;

/** tfjs `fit`: the backbone up to the top, pooled, a new softmax layer; the frozen layers inside the model. */
const viaFit = async (): Promise<JobResult> => {
  const limit = process.env.TRAIN_IMAGES === undefined ? undefined : Number(process.env.TRAIN_IMAGES);
  const source = await loadMobileNetV2();
  const train = load('train', limit);
  const val = load('val');
  const pooled = tfl.layers.globalAveragePooling2d({}).apply(source.getLayer(TOP).output) as tfl.SymbolicTensor;
  const probs = tfl.layers.dense({ units: CLASSES, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 9 }) }).apply(pooled) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: source.inputs, outputs: probs });
  const trainsLayer = (name: string): boolean => (job.trains === 'all' ? true : job.trains === 'head' ? false : job.trains.test(name));
  for (const layer of model.layers) layer.trainable = layer.name.startsWith('dense') ? true : trainsLayer(layer.name);
  model.compile({ optimizer: tf.train.adam(job.learningRate), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const y = tf.tensor1d(train.y, 'float32');
  const valY = tf.tensor1d(val.y, 'float32');
  const report: Array<JobResult['epochs'][number]> = [];
  const start = performance.now();
  for (let e = 0; e < epochs; e++) {
    await model.fit(train.x, y, { epochs: 1, batchSize: FIT_BATCH, shuffle: true, verbose: 0 });
    const evaluating = performance.now();
    const scores = model.evaluate(val.x, valY, { batchSize: FIT_BATCH }) as tf.Scalar[];
    const accuracy = (await scores[1]!.data())[0]!;
    tf.dispose(scores);
    const now = performance.now();
    report.push({ seconds: (now - start) / 1000, accuracy, evalSeconds: (now - evaluating) / 1000 });
  }
  const notes = [`batch ${FIT_BATCH} (the largest inside the wasm heap; the job's is ${job.batch}); ${train.y.length} training images`];
  tf.dispose([train.x, val.x, y, valY]);
  model.dispose();
  return { epochs: report, peakMB: peakMB(), notes };
};

await tf.setBackend('wasm');
const pack = registerTransferKernels('wasm');
if (E.isLeft(pack)) throw new Error(pack.left.message);
const threads = /^transferkit-(\d+)$/.exec(implementation);
const result = threads !== null ? await viaTransfer(Number(threads[1])) : await viaFit();
process.stdout.write(`${JSON.stringify(result)}\n`);
