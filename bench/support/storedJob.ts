/**
 * One run of `npm run bench -- flat`, in a process of its own so that its peak resident memory is
 * its own: a workload job (bench/support/workloadJobs.ts) on IMAGES digits at 224² RGB that never
 * form one tensor. They are decoded a batch at a time into a `diskRowStore` (every row on disk),
 * trained on as stored inputs, and the cached activations go to a second disk store with a 64 MB
 * budget. bench/workloadMemory.ts starts it:
 *
 *     node --import tsx bench/support/storedJob.ts JOB IMAGES EPOCHS THREADS
 *
 * The images cycle through the first 800 MNIST digits of each class (8,000 in all); the k-th pass
 * over them is shifted k pixels right, so 20,000 images are 8,000 digits, each seen at up to three
 * offsets. The held-out set is 50 other digits of each class, stored the same way.
 * Prints one JSON line: the seconds to write the store, to run the job and to cache, the held-out
 * accuracy, the peak resident memory (the wasm heaps of every thread included) at the end and once
 * the store was written, and the stored inputs' size.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { transfer, type RowStore, type RowStoreFactory } from 'transferkit';
import { diskRowStore } from 'transferkit/node';
import { registerTransferKernels, type StoredInputs } from 'transferkit/tfjs';
import { withThreads } from 'transferkit/tfjs/threads';
import { PIXELS, SIDE, take } from '../../scripts/mnist/data';
import { loadMobileNetV2, SIZE } from '../../scripts/pretrained/model';
import { unwrap } from '../../scripts/mnist/sourceModel';
import { CLASSES, digitsAt224, jobRecipe, peakMB, TOP, WORKLOAD_JOBS, type JobName } from './workloadJobs';

const [jobName, imagesArg, epochsArg, threadsArg] = process.argv.slice(2) as [JobName, string, string, string];
const images = Number(imagesArg);
const epochs = Number(epochsArg);
const threads = Number(threadsArg);
const DIGITS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] as const;
const PER_DIGIT = 800;
/** Digits decoded (resized) at a time while the store is written. */
const WRITE_BATCH = 50;
/** What the activation store keeps in memory before it spills. */
const ACTIVATION_BUDGET = 64 * 1024 * 1024;

/** Image `i` of a set of `count` digits: digit `i mod count`, shifted `⌊i / count⌋` pixels right. */
const digitAt = (pixels: Float32Array, count: number, i: number, out: Float32Array): void => {
  const source = pixels.subarray((i % count) * PIXELS, (i % count + 1) * PIXELS);
  const shift = Math.floor(i / count);
  out.fill(0);
  for (let r = 0; r < SIDE; r++) for (let c = shift; c < SIDE; c++) out[r * SIDE + c] = source[r * SIDE + c - shift]!;
};

/** Writes `n` images of `set` (resized to 224² RGB, bilinear, as the workload bench does) into a new store. */
const storeImages = (factory: RowStoreFactory, set: { x: Float32Array; y: Int32Array }, n: number): { inputs: StoredInputs; labels: number[] } => {
  const store: RowStore = factory(SIZE * SIZE * 3);
  const count = set.y.length;
  const digit = new Float32Array(PIXELS);
  const labels: number[] = [];
  for (let start = 0; start < n; start += WRITE_BATCH) {
    const size = Math.min(WRITE_BATCH, n - start);
    const small = new Float32Array(size * PIXELS);
    for (let k = 0; k < size; k++) {
      digitAt(set.x, count, start + k, digit);
      small.set(digit, k * PIXELS);
      labels.push(set.y[(start + k) % count]!);
    }
    const big = digitsAt224(small, size);
    store.append(big.dataSync() as Float32Array);
    big.dispose();
  }
  return { inputs: { store, shape: [SIZE, SIZE, 3] }, labels };
};

await tf.setBackend('wasm');
unwrap(registerTransferKernels('wasm'));
const job = WORKLOAD_JOBS[jobName];
const inputStores = unwrap(diskRowStore({ memoryBytes: 0 }));
const activationStore = unwrap(diskRowStore({ memoryBytes: ACTIVATION_BUDGET }));
const writing = performance.now();
const train = storeImages(inputStores, take(DIGITS, 0, PER_DIGIT), images);
const held = storeImages(inputStores, take(DIGITS, PER_DIGIT, 50), 500);
const writeSeconds = (performance.now() - writing) / 1000;
const afterWriteMB = peakMB();
const source = await loadMobileNetV2();
const backbone = unwrap(await withThreads(source, { top: TOP, threads })());
const { recipe } = jobRecipe(jobName, backbone.layers, epochs);
const started = performance.now();
const result = unwrap(
  await transfer(backbone, recipe, { x: train.inputs, y: train.labels }, {
    batchSize: job.batch,
    seed: 1,
    classes: CLASSES,
    validation: { data: { x: held.inputs, y: held.labels } },
    divergenceGuard: false,
    activationStore,
  })(),
);
const seconds = (performance.now() - started) / 1000;
const phase = result.history[0]!;
const report = {
  job: jobName,
  images,
  epochs,
  threads,
  writeSeconds,
  seconds,
  cacheSeconds: phase.cacheMs / 1000,
  accuracy: phase.epochs.at(-1)!.validationAccuracy!,
  peakMB: peakMB(),
  afterWriteMB,
  storeGB: (train.inputs.store.rows * train.inputs.store.rowSize * 4) / 1e9,
};
result.model.dispose();
await backbone.close();
source.dispose();
train.inputs.store.dispose();
held.inputs.store.dispose();
process.stdout.write(`${JSON.stringify(report)}\n`);
