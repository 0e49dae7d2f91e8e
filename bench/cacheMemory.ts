/**
 * Memory of cached activations against the number of examples: rows of 1,280 floats (a
 * MobileNetV2 feature vector) appended a batch of 64 at a time, as a phase caches them, into the
 * default in-memory store and into `diskRowStore` with a 16 MB budget; then one epoch of random
 * batches gathered back. Reports the growth of the process's array-buffer memory (Node's
 * `process.memoryUsage().arrayBuffers`, which counts typed arrays) over the run, and the disk
 * store's read speed.
 * Run: NODE_OPTIONS=--expose-gc npm run bench -- cache   (collects garbage before each measurement;
 * without the flag, garbage from the previous measurement blurs the numbers)
 */
import { either as E } from 'fp-ts';
import { memoryRowStore, type RowStoreFactory, type TransferError } from 'transferkit';
import { seededRandom, permutation } from '../src/core/random';
import { diskRowStore } from 'transferkit/node';

const unwrap = (factory: E.Either<TransferError, RowStoreFactory>): RowStoreFactory => {
  if (E.isLeft(factory)) throw new Error(factory.left.message);
  return factory.right;
};

const ROW = 1280;
const BATCH = 64;

const collect = (): void => (globalThis as { gc?: () => void }).gc?.();

const measure = (factory: RowStoreFactory, rows: number): { peakMB: number; gatherMs: number } => {
  collect();
  const base = process.memoryUsage().arrayBuffers;
  let peak = 0;
  const store = factory(ROW);
  const batch = new Float32Array(BATCH * ROW);
  for (let r = 0; r < rows; r += BATCH) {
    batch.fill(r);
    store.append(batch.subarray(0, Math.min(BATCH, rows - r) * ROW));
    peak = Math.max(peak, process.memoryUsage().arrayBuffers - base);
  }
  const order = permutation(rows, seededRandom(1));
  const out = new Float32Array(BATCH * ROW);
  const start = performance.now();
  for (let r = 0; r < rows; r += BATCH) {
    const idx = order.subarray(r, Math.min(rows, r + BATCH));
    store.gather(idx, out.subarray(0, idx.length * ROW));
    peak = Math.max(peak, process.memoryUsage().arrayBuffers - base);
  }
  const gatherMs = performance.now() - start;
  store.dispose();
  return { peakMB: peak / 2 ** 20, gatherMs };
};

export const run = (): void => {
  console.log(`Cached rows of ${ROW} floats, appended ${BATCH} at a time, then one epoch of random batches; array-buffer growth (MB) and epoch read time`);
  for (const rows of [4_096, 16_384, 65_536]) {
    const mem = measure(unwrap(memoryRowStore()), rows);
    const disk = measure(unwrap(diskRowStore({ memoryBytes: 16 * 2 ** 20 })), rows);
    console.log(
      `  ${String(rows).padStart(6)} rows (${((rows * ROW * 4) / 2 ** 20).toFixed(0).padStart(4)} MB of data)   memory store ${mem.peakMB.toFixed(0).padStart(4)} MB, ${mem.gatherMs.toFixed(0)} ms   disk store (16 MB budget) ${disk.peakMB.toFixed(0).padStart(3)} MB, ${disk.gatherMs.toFixed(0)} ms`,
    );
  }
};
