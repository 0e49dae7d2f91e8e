import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { either as E } from 'fp-ts';
import { described, invalidArgument, shapeMismatch, type TransferError } from '../../core/errors';
import { isRecord } from '../../core/boundary';
import type { RowStore } from '../../core/rowStore';
import { rowRange, type StoredInputs, type TfjsInputs } from './inputRows';
import { byteOffset, heapLoops, isHeapBackend } from './kernels/heap';

/**
 * Whether every value of a float tensor is finite: one pass on the wasm heap (heap.wat), else two
 * kernels (tf.isFinite then tf.all), which took 20–90 ms for 500 images of 96² × 3 on wasm.
 */
export const allFinite = (x: tf.Tensor): boolean => {
  const backend = tf.backend();
  if (isHeapBackend(backend) && backend.dataIdMap.get(x.dataId) !== undefined) return heapLoops(backend).allFinite(byteOffset(backend, x), x.size) === 1;
  return tf.tidy(() => tf.all(tf.isFinite(x)).dataSync()[0] === 1);
};

/** A tfjs tensor (not a look-alike: its data must be in the engine). */
export const isTensor = (x: unknown): x is tf.Tensor => x instanceof tf.Tensor;

/** The error for the first weight of `layers` that holds a NaN or an infinity; undefined when all are finite. */
export const nonFiniteWeight = (layers: ReadonlyArray<tfl.layers.Layer>): TransferError | undefined => {
  for (const layer of layers) {
    for (const w of layer.weights) {
      const value = w.read();
      if (value.dtype === 'float32' && !allFinite(value)) {
        const name = `${layer.name}/${(w.originalName ?? w.name).split('/').pop()}`;
        return invalidArgument('model', 'a model whose weights are all finite', described(`the weight ${name}, which holds NaN or Infinity`));
      }
    }
  }
  return undefined;
};

const shapeText = (shape: ReadonlyArray<unknown>): string => `[${shape.map((d) => (d === null ? 'N' : String(d))).join(', ')}]`;

/** Whether `x` is meant as {@link StoredInputs}: an object with a `store` and a `shape` (not a tensor). */
const storedInputs = (x: unknown): x is Record<'store' | 'shape', unknown> => isRecord(x) && !isTensor(x) && 'store' in x && 'shape' in x;

/** What one pass over a store found: its first row holding NaN or an infinity, and its values' range. */
interface Scan {
  readonly rows: number;
  readonly firstBad: number | undefined;
  readonly min: number;
  readonly max: number;
}

/**
 * Scans of stores already read, by store: a store only ever grows (rows are appended, never
 * changed), so a scan holds while the row count is the same, and `transfer`'s count, range warning
 * and embeddings do not each read a dataset on disk again.
 */
const scans = new WeakMap<RowStore, Scan>();

/** Reads every row of a store once, about 4 MB at a time. */
const scan = (store: RowStore): Scan => {
  const known = scans.get(store);
  if (known !== undefined && known.rows === store.rows) return known;
  const rows = store.rows;
  const per = Math.max(1, Math.floor((1 << 20) / store.rowSize));
  const buffer = new Float32Array(per * store.rowSize);
  let min = Infinity;
  let max = -Infinity;
  let firstBad: number | undefined;
  for (let start = 0; start < rows && firstBad === undefined; start += per) {
    const size = Math.min(per, rows - start);
    const part = buffer.subarray(0, size * store.rowSize);
    store.gather(rowRange(start, size), part);
    for (let i = 0; i < part.length; i++) {
      const v = part[i]!;
      // v − v is 0 for every finite float, NaN for NaN and ±Infinity.
      if (v - v !== 0) {
        firstBad = start + Math.floor(i / store.rowSize);
        break;
      }
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  const found = { rows, firstBad, min, max };
  scans.set(store, found);
  return found;
};

const isRowStore = (s: unknown): s is RowStore =>
  isRecord(s) && Number.isInteger(s['rowSize']) && (s['rowSize'] as number) >= 1 && Number.isInteger(s['rows']) && (s['rows'] as number) >= 0 && typeof s['gather'] === 'function';

/** {@link checkInputs} for inputs in a row store: the store, the example shape against the model's, every value finite (one read of the store). */
const checkStored = (expected: ReadonlyArray<number | null>, x: Record<'store' | 'shape', unknown>, path: string): E.Either<TransferError, number> => {
  const { store, shape } = x;
  if (!isRowStore(store)) return E.left(invalidArgument(`${path}.store`, 'a row store (rowSize, rows, gather), e.g. from memoryRowStore() or diskRowStore()', store));
  if (!(Array.isArray(shape) && shape.length >= 1 && shape.every((d) => Number.isInteger(d) && d >= 1))) {
    return E.left(invalidArgument(`${path}.shape`, 'the shape of one example: an array of positive integers', shape));
  }
  const fits = shape.length + 1 === expected.length && expected.slice(1).every((d, i) => d === null || d === shape[i]);
  if (!fits) return E.left(shapeMismatch(`${path}.shape`, `shape ${shapeText(expected.slice(1))} (one example of the model's input)`, `shape ${shapeText(shape)}`));
  const floats = (shape as number[]).reduce((a, b) => a * b, 1);
  if (store.rowSize !== floats) return E.left(shapeMismatch(`${path}.store.rowSize`, `${floats} floats a row (one example of shape ${shapeText(shape)})`, `${store.rowSize}`));
  if (store.rows === 0) return E.left(invalidArgument(path, 'at least one example', described('an empty store')));
  const { firstBad } = scan(store);
  if (firstBad !== undefined) return E.left(invalidArgument(`${path} row ${firstBad}`, 'finite values', described('NaN or Infinity')));
  return E.right(store.rows);
};

/**
 * Checks a batch of inputs against a single-input model: a live float32 or int32 tensor of the
 * model's shape (batch first), or {@link StoredInputs} whose example shape is the model's; at least
 * one example, every value finite. Returns the example count. Reads the inputs, never disposes or
 * changes them; leaves no tensor behind.
 */
export const checkInputs = (model: tfl.LayersModel, x: unknown, path = 'x'): E.Either<TransferError, number> => checkInputsFor(model.inputs[0]!.shape, x, path);

/** {@link checkInputs} against an input shape (batch first, `null` where any size goes). */
export const checkInputsFor = (expected: ReadonlyArray<number | null>, x: unknown, path = 'x'): E.Either<TransferError, number> => {
  if (storedInputs(x)) return checkStored(expected, x, path);
  if (!isTensor(x)) return E.left(invalidArgument(path, 'a tf.Tensor, or stored inputs { store, shape }', x));
  if (x.isDisposed) return E.left(invalidArgument(path, 'a live tensor', described('a disposed tensor')));
  if (x.dtype !== 'float32' && x.dtype !== 'int32') return E.left(invalidArgument(`${path}.dtype`, "'float32' or 'int32'", x.dtype));
  const fits = x.rank === expected.length && expected.every((d, i) => d === null || d === x.shape[i]);
  if (!fits) return E.left(shapeMismatch(path, `shape ${shapeText(expected)} (the model's input)`, `shape ${shapeText(x.shape)}`));
  if (x.shape[0] === 0) return E.left(invalidArgument(path, 'at least one example', described('an empty batch')));
  const finite = x.dtype === 'int32' || allFinite(x);
  if (!finite) {
    const row = tf.tidy(() => {
      const bad = tf.any(tf.reshape(tf.logicalNot(tf.isFinite(x)), [x.shape[0]!, -1]), 1);
      return tf.argMax(tf.cast(bad, 'int32')).dataSync()[0]!;
    });
    return E.left(invalidArgument(`${path} row ${row}`, 'finite values', described('NaN or Infinity')));
  }
  return E.right(x.shape[0]!);
};

/** The smallest and largest value of checked inputs (a store is read once, then remembered). */
export const valueRange = (x: TfjsInputs): readonly [number, number] => {
  if (isTensor(x)) return tf.tidy(() => [tf.min(x).dataSync()[0]!, tf.max(x).dataSync()[0]!] as const);
  const { min, max } = scan(x.store);
  return [min, max];
};

/** A sentence when `x`'s values leave `[lo, hi]` by more than 1 % of its width; undefined otherwise. */
export const rangeWarning = (x: TfjsInputs, [lo, hi]: readonly [number, number]): string | undefined => {
  const [min, max] = valueRange(x);
  const slack = 0.01 * (hi - lo);
  if (min! >= lo - slack && max! <= hi + slack) return undefined;
  return `The inputs range over [${min}, ${max}], but the model expects [${lo}, ${hi}] (inputRange): scale them as it was trained (0–255 pixels for [0, 1]: divide by 255).`;
};
