import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { either as E } from 'fp-ts';
import { described, invalidArgument, shapeMismatch, type TransferError } from '../../core/errors';
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

const shapeText = (shape: ReadonlyArray<number | null>): string => `[${shape.map((d) => (d === null ? 'N' : String(d))).join(', ')}]`;

/**
 * Checks a batch of inputs against a single-input model: a live float32 or int32 tensor, the
 * model's shape (batch first), at least one example, every value finite. Returns the example count.
 * Reads the tensor, never disposes it; leaves no tensor behind.
 */
export const checkInputs = (model: tfl.LayersModel, x: unknown, path = 'x'): E.Either<TransferError, number> => {
  if (!isTensor(x)) return E.left(invalidArgument(path, 'a tf.Tensor', x));
  if (x.isDisposed) return E.left(invalidArgument(path, 'a live tensor', described('a disposed tensor')));
  if (x.dtype !== 'float32' && x.dtype !== 'int32') return E.left(invalidArgument(`${path}.dtype`, "'float32' or 'int32'", x.dtype));
  const expected = model.inputs[0]!.shape;
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

/**
 * Runs `body` on `x` as float32: int32 inputs (what `tf.browser.fromPixels` returns) are cast once,
 * values unchanged, and the cast copy is freed when `body` settles. tfjs's convolutions take only
 * float32, so an int32 image batch otherwise failed deep inside the first one.
 */
export const asFloat = async <A>(x: tf.Tensor, body: (floats: tf.Tensor) => A | Promise<A>): Promise<A> => {
  if (x.dtype === 'float32') return body(x);
  const floats = tf.cast(x, 'float32');
  try {
    return await body(floats);
  } finally {
    floats.dispose();
  }
};
