/**
 * Caching a phase's frozen prefix: its outputs (the tensors that cross into the trainable part)
 * appended to row stores, a batch at a time, so that every step after runs only what trains.
 */
import type { RowStore, RowStoreFactory } from '../../../core/rowStore';
import { forEachBatchUntil, type CompiledPrefix } from '../compile';
import type { SymbolicTensor } from '../graph';
import type { InputRows } from '../inputRows';

/** Floats in one row of a tensor of this shape (its batch dimension removed). */
const rowSize = (shape: ReadonlyArray<number>): number => shape.reduce((a, b) => a * b, 1);

/** Cached prefix outputs of one crossing tensor: a row per example. */
export interface Cached {
  readonly store: RowStore;
  readonly shape: ReadonlyArray<number>;
}

/**
 * One row store per crossing tensor, filled by `fill` (which appends a tensor's rows by its
 * index); on failure the stores are freed.
 */
export const fillStores = async (
  crossing: ReadonlyArray<SymbolicTensor>,
  store: RowStoreFactory,
  fill: (append: (k: number, rows: Float32Array) => void) => void | Promise<void>,
): Promise<Cached[]> => {
  const cached: Cached[] = [];
  try {
    for (const t of crossing) {
      const shape = (t.shape as number[]).slice(1);
      const made = store(rowSize(shape));
      if (typeof made !== 'object' || made === null || ['append', 'gather', 'dispose'].some((m) => typeof (made as unknown as Record<string, unknown>)[m] !== 'function')) {
        throw new TypeError('the activation store factory returned something other than a row store (append, gather, dispose)');
      }
      cached.push({ store: made, shape });
    }
    await fill((k, rows) => cached[k]!.store.append(rows));
    return cached;
  } catch (thrown) {
    cached.forEach((c) => c.store.dispose());
    throw thrown;
  }
};

/**
 * Runs the compiled frozen prefix over the inputs, a batch at a time, and appends each crossing
 * tensor's rows to its own store: memory holds one batch of activations beyond the stores.
 */
export const cachePrefix = (prefix: CompiledPrefix, crossing: ReadonlyArray<SymbolicTensor>, x: InputRows, batchSize: number, store: RowStoreFactory, signal: AbortSignal | undefined): Promise<Cached[]> =>
  fillStores(crossing, store, (append) => forEachBatchUntil(prefix, x, batchSize, signal, (outputs) => outputs.forEach((o, k) => append(k, o.dataSync() as Float32Array))));
