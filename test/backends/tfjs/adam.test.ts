/**
 * The pack's fused Adam: one kernel per variable that must give the same bits as tfjs-core's
 * `tf.train.adam`, step after step, on wasm (the heap module and its TypeScript twin) and on cpu,
 * and leave no tensor behind.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { afterEach, describe, expect, it } from 'vitest';
import { registerTransferKernels } from 'transferkit/tfjs';
import { adam, FusedAdam, hasFusedAdam } from '../../../src/backends/tfjs/kernels/adam';
import { useHeapWasm } from '../../../src/backends/tfjs/kernels/heap';
import { ok } from '../../fixtures/either';

afterEach(() => useHeapWasm(true));

/** Shapes with sizes that are and are not multiples of the module's four lanes, and a scalar. */
const SHAPES: ReadonlyArray<ReadonlyArray<number>> = [[3, 5, 7], [8], [1, 1, 6, 4], [], [2, 3]];

/**
 * Trains fresh variables (the same seeded start) for `steps` steps of seeded random gradients —
 * large, small, zero and negative — with `optimizer`, and reads the variables out.
 */
const train = (optimizer: tf.Optimizer, steps: number, learningRate: number): Float32Array[] => {
  const variables = SHAPES.map((shape, i) => tf.tidy(() => tf.variable(tf.randomNormal([...shape], 0, 1, 'float32', 100 + i))));
  for (let step = 0; step < steps; step++) {
    tf.tidy(() => {
      const grads: tf.NamedTensorMap = {};
      variables.forEach((v, i) => {
        const scale = [1e-6, 1, 30, 0][(step + i) % 4]!;
        grads[v.name] = tf.mul(tf.randomNormal([...v.shape], 0, 1, 'float32', 1000 + 7 * step + i), scale); // not seed 0: tfjs takes it for no seed
      });
      optimizer.applyGradients(grads);
    });
  }
  const values = variables.map((v) => v.dataSync() as Float32Array);
  tf.dispose(variables);
  optimizer.dispose();
  return values;
};

describe.each(['wasm', 'cpu'])('fused Adam on %s', (backend) => {
  it('gives the bits of tf.train.adam, step after step, on every path, and leaks no tensor', async () => {
    await tf.setBackend(backend);
    const pack = ok(registerTransferKernels(backend, { kernels: ['TransferkitAdam'] }));
    try {
      expect(hasFusedAdam()).toBe(true);
      for (const learningRate of [1e-3, 0.25]) {
        const before = tf.memory().numTensors;
        const reference = train(tf.train.adam(learningRate), 6, learningRate);
        const fused = train(new FusedAdam(learningRate), 6, learningRate);
        useHeapWasm(false);
        const twin = train(new FusedAdam(learningRate), 6, learningRate);
        useHeapWasm(true);
        expect(tf.memory().numTensors).toBe(before);
        expect(fused).toEqual(reference);
        expect(twin).toEqual(reference);
        // The variables moved: a step that did nothing would also agree with itself.
        expect(fused[0]).not.toEqual(train(new FusedAdam(learningRate), 0, learningRate)[0]);
      }
    } finally {
      pack.unregister();
    }
  });

  it('minimizes through the Optimizer interface, and is used only where the backend has the kernel', async () => {
    await tf.setBackend(backend);
    expect(hasFusedAdam()).toBe(false);
    const stock = adam(0.1);
    expect(stock.constructor).not.toBe(FusedAdam); // not instanceof: tfjs makes every optimizer an instance of each optimizer class
    stock.dispose();
    const pack = ok(registerTransferKernels(backend, { kernels: ['TransferkitAdam'] }));
    try {
      const optimizer = adam(0.1);
      expect(optimizer.constructor).toBe(FusedAdam);
      const w = tf.variable(tf.tensor1d([3, -2]));
      for (let i = 0; i < 100; i++) optimizer.minimize(() => tf.sum(tf.square(w)) as tf.Scalar);
      expect(Math.max(...Array.from(w.dataSync()).map(Math.abs))).toBeLessThan(0.1);
      expect(optimizer.iterations).toBe(100);
      w.dispose();
      optimizer.dispose();
    } finally {
      pack.unregister();
    }
  });
});
