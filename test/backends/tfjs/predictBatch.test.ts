/**
 * `predict` without a batch size picks one its activations fit: a full-size image model must not
 * run hundreds of examples through its largest layer at once (MobileNetV2 at 224² exhausted the
 * wasm heap under `evaluate`'s former default of 256). On wasm, the backend whose heap is at stake
 * (and whose mean and convolution are fast enough to push 300 such examples through three times:
 * the cpu backend took 30 s here, twice that on a loaded CI machine).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluate, featureExtractor, transfer } from 'transferkit';
import { fromLayersModel } from 'transferkit/tfjs';
import { defaultPredictBatch, PREDICT_BATCH_FLOATS } from '../../../src/backends/tfjs/transferModel';
import { ok } from '../../fixtures/either';
import { expectNoLeakedTensors } from '../../fixtures/tensors';

beforeAll(async () => {
  await tf.setBackend('wasm');
});

expectNoLeakedTensors();

/** A 1×1 convolution to 256 channels on 32×32: 262,144 floats per example at its output. */
const wide = (): tfl.LayersModel => {
  const input = tfl.input({ shape: [32, 32, 1] });
  const out = tfl.layers.conv2d({ filters: 256, kernelSize: 1, name: 'wide', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }).apply(input) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
};

describe('predict picks its batch from the model', () => {
  it('keeps a batch of the largest activation within the budget, and small models at 256', () => {
    const big = wide();
    const small = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [4], units: 3 })] });
    try {
      expect(defaultPredictBatch(big)).toBe(PREDICT_BATCH_FLOATS / (32 * 32 * 256));
      expect(defaultPredictBatch(small)).toBe(256);
    } finally {
      big.dispose();
      small.dispose();
    }
  });

  it('predicts 300 wide examples in batches: peak memory well under one all-at-once activation, same probabilities as an explicit batch', async () => {
    const source = wide();
    const x = tf.randomNormal([300, 32, 32, 1], 0, 1, 'float32', 3);
    const y = Array.from({ length: 300 }, (_, i) => i % 2);
    const first = tf.slice(x, 0, 16);
    const trained = await transfer(ok(fromLayersModel(source)), featureExtractor, { x: first, y: y.slice(0, 16) }, { epochs: 1, batchSize: 8, seed: 5, classes: 2 })();
    first.dispose();
    if (trained._tag === 'Left') {
      x.dispose();
      source.dispose();
    }
    const result = ok(trained);
    try {
      let probs: Float32Array | undefined;
      const info = await tf.profile(async () => {
        probs = ok(await result.model.predict(x)()).data;
      });
      const allAtOnce = 300 * 32 * 32 * 256 * 4;
      expect(info.peakBytes).toBeLessThan(allAtOnce / 2);
      const explicit = ok(await result.model.predict(x, { batchSize: 300 })()).data;
      expect(probs!.length).toBe(explicit.length);
      expect(Math.max(...explicit.map((v, i) => Math.abs(v - probs![i]!)))).toBeLessThan(1e-6);
      // evaluate leaves the batch to the model too (its former fixed 256 would pass the bound).
      const scored = await tf.profile(async () => {
        expect(ok(await evaluate(result.model, { x, y }, 2)()).count).toBe(300);
      });
      expect(scored.peakBytes).toBeLessThan(allAtOnce / 2);
    } finally {
      result.model.dispose();
      x.dispose();
      source.dispose();
    }
  });
});
