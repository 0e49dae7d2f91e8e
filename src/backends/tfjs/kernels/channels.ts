/**
 * Two per-channel kernels for re-estimating BatchNorm statistics (AdaBN, session/batchNorm.ts):
 * each channel's sum and sum of squares over every leading axis in one pass, and the per-channel
 * affine map a BatchNorm with folded statistics is. On wasm, tfjs's `moments` makes three passes
 * and its `batchNorm` and broadcast `mul`/`add` are slow (97 and 207 ms for 32 × 48 × 48 × 96
 * numbers, where one SIMD pass takes a few ms; a one-off profile). On the wasm heap they run as
 * heap.wat's `channelMoments` and `channelAffine`; on other backends as the same loops in
 * TypeScript over the backend's data.
 */
import * as tf from '@tensorflow/tfjs-core';
import { affineInto, byteOffset, heapLoops, isHeapBackend, momentsOf } from './heap';

/** The kernel pack's per-channel sums: input x; output [2, channels], its sums and its sums of squares. */
export const CHANNEL_MOMENTS = 'TransferkitChannelMoments';

/** The kernel pack's per-channel affine map: inputs x, scale and shift (one per channel); output x·scale + shift. */
export const CHANNEL_AFFINE = 'TransferkitChannelAffine';

const shapeOf = (x: tf.TensorInfo): { readonly rows: number; readonly cols: number } => {
  const cols = x.shape[x.shape.length - 1] ?? 1;
  return { rows: cols === 0 ? 0 : tf.util.sizeFromShape(x.shape) / cols, cols };
};

export const channelMomentsKernel: tf.KernelFunc = ({ inputs, backend }) => {
  const { x } = inputs as { x: tf.TensorInfo };
  const { rows, cols } = shapeOf(x);
  if (isHeapBackend(backend) && backend.dataIdMap.get(x.dataId) !== undefined) {
    const out = backend.makeOutput([2, cols], 'float32');
    heapLoops(backend).channelMoments(byteOffset(backend, x), byteOffset(backend, out), rows, cols);
    return out;
  }
  const generic = backend as tf.KernelBackend;
  const values = momentsOf(generic.readSync(x.dataId) as Float32Array, rows, cols);
  return { dataId: generic.write(values, [2, cols], 'float32'), shape: [2, cols], dtype: 'float32' };
};

export const channelAffineKernel: tf.KernelFunc = ({ inputs, backend }) => {
  const { x, scale, shift } = inputs as Record<'x' | 'scale' | 'shift', tf.TensorInfo>;
  const { rows, cols } = shapeOf(x);
  const shape = [...x.shape];
  if (isHeapBackend(backend) && [x, scale, shift].every((t) => backend.dataIdMap.get(t.dataId) !== undefined)) {
    const out = backend.makeOutput(shape, 'float32');
    heapLoops(backend).channelAffine(byteOffset(backend, x), byteOffset(backend, scale), byteOffset(backend, shift), byteOffset(backend, out), rows, cols);
    return out;
  }
  const generic = backend as tf.KernelBackend;
  const read = (t: tf.TensorInfo): Float32Array => generic.readSync(t.dataId) as Float32Array;
  const values = affineInto(read(x), read(scale), read(shift), new Float32Array(rows * cols), cols);
  return { dataId: generic.write(values, shape, 'float32'), shape, dtype: 'float32' };
};

const has = (kernel: string): boolean => tf.getKernel(kernel, tf.getBackend()) !== undefined;

/** Each channel's (last axis's) sum and sum of squares over the other axes: `[sums…, squares…]`, 2 × channels numbers. */
export const channelMoments = (x: tf.Tensor): Float32Array => {
  if (has(CHANNEL_MOMENTS) && x.dtype === 'float32') {
    const out = tf.engine().runKernel(CHANNEL_MOMENTS, { x }) as tf.Tensor;
    try {
      return out.dataSync() as Float32Array;
    } finally {
      out.dispose();
    }
  }
  return tf.tidy(() => {
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    return tf.concat([tf.sum(x, axes), tf.sum(tf.square(x), axes)]).dataSync() as Float32Array;
  });
};

/** x·scale + shift on its last axis (one scale and shift per channel). */
export const channelAffine = (x: tf.Tensor, scale: Float32Array, shift: Float32Array): tf.Tensor =>
  tf.tidy(() => {
    const [s, b] = [tf.tensor1d(scale, 'float32'), tf.tensor1d(shift, 'float32')];
    return has(CHANNEL_AFFINE) && x.dtype === 'float32' ? (tf.engine().runKernel(CHANNEL_AFFINE, { x, scale: s, shift: b }) as tf.Tensor) : tf.add(tf.mul(x, s), b);
  });
