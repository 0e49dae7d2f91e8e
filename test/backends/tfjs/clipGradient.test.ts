/**
 * The pack's one-pass gradient of clipByValue (ReLU6): the same numbers as tfjs's own gradient,
 * on the heap (wasm) and through the backend (cpu); tfjs's gradient wherever the kernel is not
 * registered; and tfjs's gradient back once the last backend unregisters the pack.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PACK_KERNELS, registerTransferKernels } from 'transferkit/tfjs';
import { ok } from '../../fixtures/either';

/** Values on both sides of both bounds, on them, and NaN. */
const inputs = (): { x: tf.Tensor; dy: tf.Tensor } => {
  const special = [-1, 0, 3, 6, 7, Number.NaN, -0, 6.0000005, 5.9999995];
  const normal = Array.from({ length: 4 * 5 * 3 * 7 - special.length }, (_, i) => 9 * Math.sin(i * 1.7) - 1.5);
  return { x: tf.tensor4d([...special, ...normal], [4, 5, 3, 7]), dy: tf.randomNormal([4, 5, 3, 7], 0, 1, 'float32', 3) };
};

/** d/dx of Σ dy · relu6-style clip(x, lo, hi), read out. */
const gradient = (lo: number, hi: number): Float32Array => {
  const { x, dy } = inputs();
  try {
    return tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.clipByValue(t, lo, hi), dy)))(x).dataSync() as Float32Array).slice();
  } finally {
    tf.dispose([x, dy]);
  }
};

let stock: tf.GradConfig;
let expected: Float32Array;
let expectedWide: Float32Array;

beforeAll(async () => {
  await tf.setBackend('cpu');
  stock = tf.getGradient('ClipByValue');
  expected = gradient(0, 6);
  expectedWide = gradient(-2.5, 4);
});

afterEach(() => {
  expect(tf.getGradient('ClipByValue')).toBe(stock);
});

describe('the one-pass clipByValue gradient', () => {
  it.each(['wasm', 'cpu'])('gives tfjs’s numbers on %s, bounds and NaN included, and leaks nothing', async (backend) => {
    await tf.setBackend(backend);
    const pack = ok(registerTransferKernels(backend, { kernels: PACK_KERNELS }));
    try {
      expect(tf.getGradient('ClipByValue')).not.toBe(stock);
      const before = tf.memory().numTensors;
      expect(gradient(0, 6)).toEqual(expected);
      expect(gradient(-2.5, 4)).toEqual(expectedWide);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      pack.unregister();
      await tf.setBackend('cpu');
    }
  });

  it('falls back to tfjs’s gradient on a backend without the kernel, and stays until the last backend unregisters', async () => {
    await tf.setBackend('wasm');
    const wasm = ok(registerTransferKernels('wasm'));
    const cpu = ok(registerTransferKernels('cpu', { kernels: ['Sum'] }));
    await tf.setBackend('cpu');
    expect(tf.getKernel('TransferkitClipByValueGrad', 'cpu')).toBeUndefined();
    expect(gradient(0, 6)).toEqual(expected);
    wasm.unregister();
    expect(tf.getGradient('ClipByValue')).toBe(stock);
    cpu.unregister();
    const both = [ok(registerTransferKernels('cpu', { kernels: PACK_KERNELS })), ok(registerTransferKernels('wasm', { kernels: PACK_KERNELS }))];
    both[0]!.unregister();
    both[0]!.unregister(); // a second call changes nothing: wasm still holds the gradient
    expect(tf.getGradient('ClipByValue')).not.toBe(stock);
    expect(tf.getKernel('TransferkitClipByValueGrad', 'wasm')).toBeDefined();
    both[1]!.unregister();
  });
});
