/**
 * Inputs as the batch loops read them: a tensor, or examples kept in a row store, so a dataset
 * larger than memory (or than the 4 GB wasm heap: 20,000 images of 224² × 3 are 12 GB) never forms
 * one tensor. Every loop takes a batch of rows as a float32 tensor of its own, so int32 inputs (what
 * `tf.browser.fromPixels` returns) are cast a batch at a time rather than copied whole.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { RowStore } from '../../core/rowStore';
import { readInto } from './session/steps';

/**
 * Inputs kept in a {@link RowStore}, one example per row: e.g. images appended to a store from
 * `diskRowStore` (transferkit/node) as they are decoded, so that neither the dataset nor its
 * cached activations need fit in memory. The store stays the caller's: transferkit reads it and
 * never appends to it or disposes it.
 */
export interface StoredInputs {
  /** The examples, `store.rowSize` floats each: the product of `shape`. */
  readonly store: RowStore;
  /** The shape of one example, without the batch dimension, e.g. `[224, 224, 3]`. */
  readonly shape: ReadonlyArray<number>;
}

/** What the tfjs backend takes as inputs: a tensor with one example per row, or {@link StoredInputs}. */
export type TfjsInputs = tf.Tensor | StoredInputs;

/** Inputs that passed `checkInputs`, read by row ranges. */
export interface InputRows {
  /** Examples. */
  readonly count: number;
  /** The shape of one example. */
  readonly shape: ReadonlyArray<number>;
  /** Floats in one example. */
  readonly rowSize: number;
  /** Rows `[start, start + size)` as a new float32 tensor, the caller's to dispose. */
  batch(start: number, size: number): tf.Tensor;
  /** Copies rows `[start, start + size)` into `out` (at least `size · rowSize` floats). */
  read(start: number, size: number, out: Float32Array): void;
  /** The store, for inputs that are stored (read in place where nothing has to run on them). */
  readonly store?: RowStore;
}

/** The row indices `[start, start + size)`, as a store's `gather` takes them. */
export const rowRange = (start: number, size: number): Int32Array => Int32Array.from({ length: size }, (_, i) => start + i);

/** Whether `x` is a tensor (of the engine this module sees). */
const tensorInput = (x: TfjsInputs): x is tf.Tensor => x instanceof tf.Tensor;

/** Reads checked inputs (see `checkInputs`) by row ranges; the tensor or store is never changed or disposed. */
export const inputRows = (x: TfjsInputs): InputRows => {
  if (tensorInput(x)) {
    const shape = x.shape.slice(1);
    const batch = (start: number, size: number): tf.Tensor =>
      tf.tidy(() => {
        const part = tf.slice(x, start, size);
        return part.dtype === 'float32' ? part : tf.cast(part, 'float32');
      });
    return {
      count: x.shape[0]!,
      shape,
      rowSize: shape.reduce((a, b) => a * b, 1),
      batch,
      read: (start, size, out) => {
        const part = batch(start, size);
        try {
          readInto(part, out);
        } finally {
          part.dispose();
        }
      },
    };
  }
  const { store, shape } = x;
  return {
    count: store.rows,
    shape: [...shape],
    rowSize: store.rowSize,
    store,
    batch: (start, size) => {
      const out = new Float32Array(size * store.rowSize);
      store.gather(rowRange(start, size), out);
      return tf.tensor(out, [size, ...shape], 'float32');
    },
    read: (start, size, out) => store.gather(rowRange(start, size), out.subarray(0, size * store.rowSize)),
  };
};

/**
 * A view of a store that the session may read as its cache but must not free: full fine-tune of
 * stored inputs trains on the caller's rows in place (nothing frozen runs on them), and the
 * session's dispose then leaves the caller's store as it was.
 */
export const borrowed = (store: RowStore): RowStore => ({
  rowSize: store.rowSize,
  get rows() {
    return store.rows;
  },
  memoryBytes: 0,
  append: () => {
    throw new Error('a borrowed input store is read-only');
  },
  gather: (indices, out) => store.gather(indices, out),
  dispose: () => undefined,
});
