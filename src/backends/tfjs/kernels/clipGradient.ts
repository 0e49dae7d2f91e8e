/**
 * The gradient of `clipByValue` — ReLU6, in every MobileNet block — in one pass.
 *
 * tfjs-core's gradient is `where(logicalAnd(x ≥ min, x ≤ max), dy, zerosLike(dy))`: five kernels,
 * each a pass over the tensor: 9.1 ms on stock wasm for a ReLU6 of 32 × 3 × 3 × 960, against 0.3 ms
 * for the kernel here (`npm run bench -- kernels`). {@link CLIP_GRADIENT} computes the same in one
 * pass: dy where min ≤ x ≤ max, else 0 (a NaN in x compares false, as in tfjs's version).
 *
 * Gradients are registered per kernel name, for every backend at once, so the pack installs a
 * gradient for `ClipByValue` that calls {@link CLIP_GRADIENT} when the current backend has it and
 * tfjs's own gradient otherwise; the last backend to unregister puts tfjs's gradient back.
 */
import * as tf from '@tensorflow/tfjs-core';
import { byteOffset, heapLoops, isHeapBackend, maskClipGradient } from './heap';

/** The name of the kernel pack's one-pass gradient of `clipByValue` (ReLU6), as registered with tfjs. */
export const CLIP_GRADIENT = 'TransferkitClipByValueGrad';

/** The kernel: straight on the wasm heap (heap.wat), or through the backend's read and write elsewhere. */
export const clipGradientKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, x } = inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
  const { clipValueMin: lo, clipValueMax: hi } = attrs as unknown as tf.ClipByValueAttrs;
  const n = tf.util.sizeFromShape(x.shape);
  if (isHeapBackend(backend)) {
    const out = backend.makeOutput([...x.shape], 'float32');
    heapLoops(backend).clipGradient(byteOffset(backend, dy), byteOffset(backend, x), byteOffset(backend, out), n, lo, hi);
    return out;
  }
  const generic = backend as tf.KernelBackend;
  const out = new Float32Array(n);
  maskClipGradient(generic.readSync(dy.dataId) as Float32Array, generic.readSync(x.dataId) as Float32Array, lo, hi, out);
  return { dataId: generic.write(out, [...x.shape], 'float32'), shape: [...x.shape], dtype: 'float32' };
};

let users = 0;
let original: tf.GradConfig | undefined;

/** Installs the delegating gradient for `ClipByValue` (counted: once per registering backend). */
export const useClipGradient = (): void => {
  if (users++ > 0) return;
  const stock = tf.getGradient(tf.ClipByValue);
  original = stock;
  tf.registerGradient({
    ...stock,
    gradFunc: (dy, saved, attrs) =>
      tf.getKernel(CLIP_GRADIENT, tf.getBackend()) === undefined || (dy as tf.Tensor).dtype !== 'float32' || saved[0]?.dtype !== 'float32'
        ? stock.gradFunc(dy, saved, attrs)
        : { x: () => tf.engine().runKernel(CLIP_GRADIENT, { dy: dy as tf.Tensor, x: saved[0]! }, attrs) as tf.Tensor },
  });
};

/** Undoes one {@link useClipGradient}; the last one puts tfjs's gradient back. */
export const releaseClipGradient = (): void => {
  if (users === 0 || --users > 0) return;
  tf.registerGradient(original!);
  original = undefined;
};
