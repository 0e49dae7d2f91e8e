/**
 * The hardening repros that differed on wasm: a from-scratch model with noise layers gave other
 * weights for the same seed, and a NaN weight in the source came back as a success (ReLU swallows
 * NaN there).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { featureExtractor, fromScratch, transfer } from 'transferkit';
import { fromLayersModel, setupBackend, type BackendChoice } from 'transferkit/tfjs';
import { err, ok } from '../../fixtures/either';
import { toyData } from '../../fixtures/models';
import { expectNoLeakedTensors } from '../../fixtures/tensors';

let choice: BackendChoice | undefined;
beforeAll(async () => {
  choice = ok(await setupBackend({ prefer: ['wasm'] })());
});
afterAll(() => choice?.kernels?.unregister());
expectNoLeakedTensors();

const model = (noise: () => tfl.layers.Layer): tfl.LayersModel =>
  tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [8], units: 16, activation: 'relu', name: 'd1', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }),
      noise(),
      tfl.layers.dense({ units: 12, activation: 'relu', name: 'd2', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }),
      tfl.layers.dense({ units: 3, activation: 'softmax', name: 'classifier', kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }),
    ],
  });

const trained = async (make: () => tfl.LayersModel, seed: number): Promise<ReadonlyMap<string, Float32Array>> => {
  const source = make();
  const { x, y } = toyData([8], 24, 3);
  try {
    const result = ok(await transfer(ok(fromLayersModel(source)), fromScratch, { x, y }, { epochs: 2, batchSize: 8, seed })());
    const weights = ok(result.model.weights());
    result.model.dispose();
    return weights;
  } finally {
    x.dispose();
    source.dispose();
  }
};

describe('on wasm', () => {
  it.each([
    ['dropout', () => tfl.layers.dropout({ rate: 0.3 })],
    ['gaussianNoise', () => tfl.layers.gaussianNoise({ stddev: 0.3 })],
    ['gaussianDropout', () => tfl.layers.gaussianDropout({ rate: 0.3 })],
    ['alphaDropout', () => tfl.layers.alphaDropout({ rate: 0.3 })],
  ])('from scratch with %s: the same seed gives bit-identical weights', async (_, noise) => {
    const make = () => model(noise);
    expect([...(await trained(make, 3))]).toEqual([...(await trained(make, 3))]);
  });

  it('a NaN weight in the source is refused, not trained through', async () => {
    const source = model(() => tfl.layers.dropout({ rate: 0 }));
    const { x, y } = toyData([8], 24, 3);
    const backbone = ok(fromLayersModel(source));
    const [kernel, bias] = source.getLayer('d1').getWeights();
    const values = kernel!.dataSync().slice();
    values[3] = Number.NaN;
    const poisoned = tf.tensor(values, kernel!.shape);
    source.getLayer('d1').setWeights([poisoned, bias!]);
    try {
      expect(err(await transfer(backbone, featureExtractor, { x, y }, { epochs: 1 })())).toMatchObject({ _tag: 'InvalidArgument', received: 'the weight d1/kernel, which holds NaN or Infinity' });
    } finally {
      tf.dispose([poisoned, x]);
      source.dispose();
    }
  });
});
