/**
 * Every adaptation method on wasm with the kernel pack (the backend `setupBackend` picks in Node
 * and in a page), beside the same run on cpu: each runs, leaks nothing and leaves the source
 * untouched, and AdaBN's statistics, through the pack's one-pass kernels on the wasm heap, equal
 * cpu's (plain tfjs ops) to float32 rounding.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adapt, ADAPT_METHODS } from 'transferkit';
import { fromLayersModel, registerTransferKernels, type RegisteredKernels } from 'transferkit/tfjs';
import { ok } from '../../fixtures/either';
import { denseModel, snapshot } from '../../fixtures/models';
import { expectClose } from '../../fixtures/tensors';

let pack: RegisteredKernels;

beforeAll(async () => {
  await tf.setBackend('wasm');
  pack = ok(registerTransferKernels('wasm'));
});

afterAll(async () => {
  pack.unregister();
  await tf.setBackend('cpu');
});

/** AdaBN's moving statistics for the same model and target on a backend. */
const adabnOn = async (backend: string): Promise<Float32Array[]> => {
  await tf.setBackend(backend);
  const source = denseModel(5);
  const x = tf.tidy(() => tf.add(tf.mul(tf.randomNormal([70, 8], 0, 1, 'float32', 3), 2), 1));
  try {
    const result = ok(await adapt(ok(fromLayersModel(source, { top: 'd2' })), 'adabn', { target: { x } }, { batchSize: 16 })());
    const w = ok(result.model.weights());
    result.model.dispose();
    return [w.get('bn1/moving_mean')!, w.get('bn1/moving_variance')!];
  } finally {
    tf.dispose(x);
    source.dispose();
  }
};

describe('adaptation on wasm', () => {
  it.each(ADAPT_METHODS)('%s runs with the kernel pack, leaks nothing, leaves the source untouched', async (method) => {
    await tf.setBackend('wasm');
    const source = denseModel(5);
    const before = snapshot(source);
    const sx = tf.randomNormal([48, 8], 0, 1, 'float32', 1);
    const sy = Array.from(tf.tidy(() => tf.argMax(source.predict(sx) as tf.Tensor, 1).dataSync()));
    const tx = tf.tidy(() => tf.add(tf.mul(tf.randomNormal([40, 8], 0, 1, 'float32', 2), 2), 1));
    const tensors = tf.memory().numTensors;
    try {
      const result = ok(await adapt(ok(fromLayersModel(source, { top: 'd2' })), method, { target: { x: tx }, source: { x: sx, y: sy } }, { batchSize: 16, steps: 4, seed: 1 })());
      expect(ok(await result.model.predict(tx)()).data.every(Number.isFinite)).toBe(true);
      result.model.dispose();
      expect(tf.memory().numTensors).toBe(tensors);
      expect(snapshot(source)).toEqual(before);
    } finally {
      tf.dispose([sx, tx]);
      source.dispose();
    }
  });

  it("AdaBN's statistics on the wasm heap equal cpu's", async () => {
    const [wasm, cpu] = [await adabnOn('wasm'), await adabnOn('cpu')];
    wasm.forEach((v, i) => expectClose(v, cpu[i]!, 1e-5));
  });
});
