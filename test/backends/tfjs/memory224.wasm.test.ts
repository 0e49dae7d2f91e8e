/**
 * The default path on a real-size model: a MobileNetV2-shaped model at 224² (built in code,
 * bench/support/mobilenetv2.ts) fine-tuned whole and trained from scratch on wasm with the kernel
 * pack, at the default batch of 32. Before micro-batches the from-scratch run trapped the wasm
 * module (its 4 GB heap exhausted: `Aborted()`) and every later call in the process failed; now
 * each step runs as passes that fit, and the backend still computes afterwards.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromScratch, fullFineTune, transfer } from 'transferkit';
import { fromLayersModel, setupBackend, WASM_HEAP_BYTES, type BackendChoice } from 'transferkit/tfjs';
import { mobileNetV2 } from '../../../bench/support/mobilenetv2';
import { ok } from '../../fixtures/either';
import { expectNoLeakedTensors } from '../../fixtures/tensors';

let choice: BackendChoice | undefined;
beforeAll(async () => {
  choice = ok(await setupBackend({ prefer: ['wasm'] })());
});
afterAll(() => {
  choice?.kernels?.unregister();
});
expectNoLeakedTensors();

const heapBytes = (): number => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length;

describe('a 224² MobileNetV2 on wasm at the default batch', () => {
  it.each([
    ['full fine-tune', fullFineTune, { head: { steps: 1 }, 'fine-tune': { steps: 1 } }],
    ['from scratch', fromScratch, { scratch: { steps: 1 } }],
  ] as const)('%s: each step in passes that fit the heap, and the backend computes afterwards', { timeout: 240_000 }, async (_, recipe, phases) => {
    expect(tf.getBackend()).toBe('wasm');
    const source = mobileNetV2(224, 10);
    const x = tf.randomUniform([33, 224, 224, 3], 0, 1, 'float32', 1);
    try {
      const backbone = ok(fromLayersModel(source));
      const y = Array.from({ length: 33 }, (_, i) => i % 3);
      const result = ok(await transfer(backbone, recipe, { x, y }, { seed: 1, phases })());
      const trained = result.history.at(-1)!;
      expect(trained.microBatch).toBeGreaterThanOrEqual(1);
      expect(trained.microBatch).toBeLessThan(32);
      expect(trained.epochs.every((e) => Number.isFinite(e.loss))).toBe(true);
      expect(heapBytes()).toBeLessThanOrEqual(WASM_HEAP_BYTES);
      // Still computing: the trained copy predicts, the source embeds.
      const p = ok(await result.model.predict(x)());
      expect(p.data.every(Number.isFinite)).toBe(true);
      result.model.dispose();
    } finally {
      x.dispose();
      source.dispose();
    }
  });
});
