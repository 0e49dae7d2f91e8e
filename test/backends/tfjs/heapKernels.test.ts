/**
 * The kernel pack's loops on the tfjs wasm heap: the committed module is the one heap.wat
 * assembles to, it runs on the backend's own memory, and it gives the same bits as the
 * TypeScript loops it stands in for (the same additions in the same order).
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerTransferKernels, type RegisteredKernels } from 'transferkit/tfjs';
import { assemble, MODULES, source } from '../../../scripts/buildWasm';
import { byteOffset, heapLoops, isHeapBackend, useHeapWasm } from '../../../src/backends/tfjs/kernels/heap';
import { ROWS_TIMES, useDirectPointwise } from '../../../src/backends/tfjs/kernels/register';
import { CHANNEL_AFFINE, CHANNEL_MOMENTS } from '../../../src/backends/tfjs/kernels/channels';
import { ok } from '../../fixtures/either';
import { expectClose } from '../../fixtures/tensors';

let pack: RegisteredKernels;

beforeAll(async () => {
  await tf.setBackend('wasm');
  pack = ok(registerTransferKernels('wasm'));
});

afterAll(() => pack.unregister());
afterEach(() => useHeapWasm(true));

/** Runs `f` on the TypeScript loops and on the module; both results, read out. */
const bothPaths = (f: () => tf.Tensor): { ts: Float32Array; wasm: Float32Array } => {
  const run = (wasm: boolean): Float32Array => {
    useHeapWasm(wasm);
    const t = f();
    const values = t.dataSync() as Float32Array;
    t.dispose();
    return values;
  };
  return { ts: run(false), wasm: run(true) };
};

describe('the heap loops', () => {
  it('are the bytes heap.wat assembles to (run `npm run build:wasm` after editing it)', async () => {
    const heap = MODULES.find((m) => m.name === 'HEAP_WASM')!;
    expect(readFileSync(heap.out, 'utf8')).toBe(source(heap, await assemble(heap)));
  });

  it('run as WebAssembly on the backend’s own memory here, and can be turned off', () => {
    const backend = tf.backend();
    expect(isHeapBackend(backend)).toBe(true);
    if (!isHeapBackend(backend)) return;
    expect(heapLoops(backend).kind).toBe('wasm');
    useHeapWasm(false);
    expect(heapLoops(backend).kind).toBe('typescript');
  });

  it.each([
    [[7, 5, 3, 9]],
    [[64, 26, 26, 32]],
    [[3, 1]],
    [[2, 4]],
  ])('sum over the leading axes of %j: the same bits on both paths', (shape) => {
    const x = tf.randomNormal(shape, 0, 3, 'float32', 11);
    const { ts, wasm } = bothPaths(() => tf.sum(x, shape.slice(0, -1).map((_, i) => i)));
    x.dispose();
    expect(wasm).toEqual(ts);
    expect(wasm.length).toBe(shape.at(-1));
  });

  it.each([[[7, 5, 3, 9]], [[32, 12, 12, 96]], [[3, 1]], [[5, 6]]])(
    "a channel's sum and sum of squares, and the per-channel affine map, over %j: the same bits on both paths, and tfjs's numbers",
    (shape) => {
      const x = tf.randomNormal(shape, 0.5, 2, 'float32', 13);
      const channels = shape.at(-1)!;
      const scale = tf.randomNormal([channels], 1, 0.5, 'float32', 14);
      const shift = tf.randomNormal([channels], 0, 1, 'float32', 15);
      const moments = bothPaths(() => tf.engine().runKernel(CHANNEL_MOMENTS, { x }) as tf.Tensor);
      const affine = bothPaths(() => tf.engine().runKernel(CHANNEL_AFFINE, { x, scale, shift }) as tf.Tensor);
      const axes = shape.slice(0, -1).map((_, i) => i);
      const reference = tf.tidy(() => [tf.concat([tf.sum(x, axes), tf.sum(tf.square(x), axes)]).dataSync(), tf.add(tf.mul(x, scale), shift).dataSync()] as const);
      tf.dispose([x, scale, shift]);
      expect(moments.wasm).toEqual(moments.ts);
      expect(affine.wasm).toEqual(affine.ts);
      expectClose(moments.wasm, reference[0], 1e-4);
      // The same products and sums as tfjs's mul then add, each rounded to float32.
      expect(affine.wasm).toEqual(reference[1]);
    },
  );

  it.each([
    [[2, 5, 5, 6], 1, 'same'],
    [[3, 3, 3, 960], 1, 'same'],
    [[2, 7, 6, 5], 2, 'valid'],
  ] as const)('depthwise gradients of %j, stride %i, pad %s: the same bits on both paths', (shape, stride, pad) => {
    const x = tf.randomNormal([...shape], 0, 1, 'float32', 3) as tf.Tensor4D;
    const filter = tf.randomNormal([3, 3, shape[3], 1], 0, 1, 'float32', 4) as tf.Tensor4D;
    const dy = tf.tidy(() => tf.randomNormal(tf.depthwiseConv2d(x, filter, stride, pad).shape, 0, 1, 'float32', 5));
    const attrs = { strides: [stride, stride], pad, dilations: [1, 1] };
    const filterGrad = bothPaths(() => tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...attrs, filterShape: filter.shape }) as tf.Tensor);
    const inputGrad = bothPaths(() => tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter }, { ...attrs, inputShape: x.shape }) as tf.Tensor);
    tf.dispose([x, filter, dy]);
    expect(filterGrad.wasm).toEqual(filterGrad.ts);
    expect(inputGrad.wasm).toEqual(inputGrad.ts);
    expect(filterGrad.wasm.length).toBe(9 * shape[3]);
    expect(inputGrad.wasm.length).toBe(tf.util.sizeFromShape([...shape]));
  });

  it.each([
    [[2, 5, 5, 8], 16],
    [[3, 10, 10, 16], 24],
    [[1, 23, 23, 4], 8],
  ] as const)('the filter gradient of a 1×1 convolution of %j to %i channels: the same bits on both paths, and the matrix product\'s values', (shape, cout) => {
    const x = tf.randomNormal([...shape], 0, 1, 'float32', 3) as tf.Tensor4D;
    const dy = tf.randomNormal([shape[0], shape[1], shape[2], cout], 0, 1, 'float32', 5) as tf.Tensor4D;
    const grad = () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', filterShape: [1, 1, shape[3], cout] }) as tf.Tensor;
    const direct = bothPaths(grad);
    useDirectPointwise(false);
    const product = bothPaths(grad).wasm;
    useDirectPointwise(true);
    tf.dispose([x, dy]);
    expect(direct.wasm).toEqual(direct.ts);
    expect(direct.wasm.length).toBe(shape[3] * cout);
    // Rows over 256 (the loop's block) in the second and third cases.
    let worst = 0;
    product.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - direct.wasm[i]!))));
    expect(worst).toBeLessThan(1e-4 * Math.max(1, ...Array.from(product, Math.abs)));
  });

  it.each([
    [70, 24, 16, true],
    [9, 5, 8, false],
    [130, 160, 32, true],
  ] as const)('the product of rows %i × %i by %i columns (bias %s): the same bits on both paths, and the matrix product\'s values', (m, k, n, withBias) => {
    const a = tf.randomNormal([m, k], 0, 1, 'float32', 6);
    const b = tf.randomNormal([k, n], 0, 1, 'float32', 7);
    const bias = tf.randomNormal([n], 0, 1, 'float32', 8);
    const inputs = withBias ? { a, b, bias } : { a, b };
    const rows = bothPaths(() => tf.engine().runKernel(ROWS_TIMES, inputs) as tf.Tensor);
    const product = tf.tidy(() => (withBias ? tf.add(tf.matMul(a, b), bias) : tf.matMul(a, b)).dataSync() as Float32Array);
    tf.dispose([a, b, bias]);
    // Leftover rows (m not a multiple of 4) in every case; more than a 64-row block in the first and last.
    expect(rows.wasm).toEqual(rows.ts);
    expect(rows.wasm.length).toBe(m * n);
    let worst = 0;
    product.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - rows.wasm[i]!))));
    expect(worst).toBeLessThan(1e-4 * Math.max(1, ...Array.from(product, Math.abs)));
  });

  it('release their output when they fail, so a failed kernel leaves no data buffer behind', () => {
    const x = tf.randomNormal([2, 5, 5, 6], 0, 1, 'float32', 3) as tf.Tensor4D;
    const dy = tf.randomNormal([2, 5, 5, 6], 0, 1, 'float32', 5) as tf.Tensor4D;
    const pooled = tf.zeros([2, 2, 2, 6]);
    const buffers = tf.backend().numDataIds();
    // Both heap kernels zero their output first: make that fail.
    const fill = vi.spyOn(Float32Array.prototype, 'fill').mockImplementation(() => {
      throw new Error('no fill');
    });
    try {
      expect(() => tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { strides: [1, 1], pad: 'same', dilations: [1, 1], filterShape: [3, 3, 6, 1] })).toThrow('no fill');
      expect(() => tf.engine().runKernel('MaxPoolGrad', { dy: pooled, input: x, output: pooled }, { filterSize: 2, strides: 2, pad: 'valid' })).toThrow('no fill');
    } finally {
      fill.mockRestore();
    }
    expect(tf.backend().numDataIds()).toBe(buffers);
    tf.dispose([x, dy, pooled]);
  });

  it('tell whether all values are finite, on both paths, wherever a NaN or an infinity is', () => {
    const backend = tf.backend();
    if (!isHeapBackend(backend)) throw new Error('not the wasm backend');
    const check = (values: number[]): [number, number] => {
      const x = tf.tensor1d(values, 'float32');
      const at = byteOffset(backend, x);
      try {
        useHeapWasm(false);
        const ts = heapLoops(backend).allFinite(at, values.length);
        useHeapWasm(true);
        return [ts, heapLoops(backend).allFinite(at, values.length)];
      } finally {
        x.dispose();
      }
    };
    const finite = Array.from({ length: 11 }, (_, i) => (i - 5) * 1e30);
    expect(check(finite)).toEqual([1, 1]);
    expect(check([-0, 3.4e38, -3.4e38, 1e-45])).toEqual([1, 1]);
    // In the SIMD part (the first eight) and in the tail (the last three).
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      for (const where of [0, 5, 9, 10]) expect(check(finite.map((v, i) => (i === where ? bad : v))), `${bad} at ${where}`).toEqual([0, 0]);
    }
  });

  it.each([[[5, 3, 3, 7]], [[4, 4]], [[1, 3]]])('the clipByValue gradient of %j: the same bits on both paths', (shape) => {
    const n = tf.util.sizeFromShape(shape);
    const x = tf.tidy(() => tf.reshape(tf.slice(tf.concat([tf.tensor1d([0, 6, -0, Number.NaN, 7, -1]), tf.randomUniform([n], -3, 9, 'float32', 5)]), 0, n), shape));
    const { ts, wasm } = bothPaths(() => tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.clipByValue(t, 0, 6), 2)))(x)));
    x.dispose();
    expect(wasm).toEqual(ts);
    expect(Array.from(wasm.slice(0, Math.min(6, wasm.length)))).toEqual([2, 2, 2, 0, 0, 0].slice(0, Math.min(6, wasm.length)));
  });
});
