/**
 * The compiled frozen prefix against the model it was compiled from: BatchNorm folded into the
 * convolution before it and activations fused give the same outputs within float32 rounding.
 *
 * Tolerance: max |compiled − model| ≤ 1e-4 × max(1, max |model|).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { compilePrefix } from '../../../src/backends/tfjs/compile';
import { mobileNetLike } from '../../fixtures/models';
import { expectClose as closeTo, expectNoLeakedTensors } from '../../fixtures/tensors';
import { loadSourceModel } from '../../../scripts/mnist/sourceModel';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
expectNoLeakedTensors();

const expectClose = (actual: tf.Tensor, expected: tf.Tensor): void => {
  expect(actual.shape).toEqual(expected.shape);
  closeTo(actual.dataSync(), expected.dataSync());
};

/** A model with the shapes folding must handle: strides, valid padding, ReLU6, a depth multiplier, biases, BN without scale. */
const awkward = (): tfl.LayersModel => {
  const input = tfl.input({ shape: [9, 9, 3] });
  const bn = (opts: Partial<{ scale: boolean; center: boolean }> = {}) =>
    tfl.layers.batchNormalization({ ...opts, movingMeanInitializer: tfl.initializers.randomNormal({ seed: 4 }), movingVarianceInitializer: tfl.initializers.randomUniform({ minval: 0.5, maxval: 2, seed: 5 }), gammaInitializer: tfl.initializers.randomNormal({ mean: 1, seed: 6 }), betaInitializer: tfl.initializers.randomNormal({ seed: 7 }) });
  let h = tfl.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'valid', useBias: true, biasInitializer: tfl.initializers.randomNormal({ seed: 1 }) }).apply(input) as tfl.SymbolicTensor;
  h = tfl.layers.reLU({ maxValue: 6 }).apply(bn().apply(h)) as tfl.SymbolicTensor;
  h = tfl.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', useBias: false }).apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.activation({ activation: 'elu' }).apply(bn({ scale: false }).apply(h)) as tfl.SymbolicTensor;
  // A BatchNorm whose input is also read elsewhere cannot fold: the conv output is needed as is.
  const c = tfl.layers.conv2d({ filters: 12, kernelSize: 1 }).apply(h) as tfl.SymbolicTensor;
  const out = tfl.layers.add().apply([bn().apply(c) as tfl.SymbolicTensor, c]) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
};

describe('compilePrefix', () => {
  it.each([
    ['the MobileNet-like fixture', () => mobileNetLike(), [4, 8, 8, 3], 3],
    ['a model with strides, ReLU6, a depth multiplier and an unfoldable BatchNorm', awkward, [4, 9, 9, 3], 2],
    ['the committed MNIST source CNN', undefined, [4, 28, 28, 1], 3],
  ] as const)('gives the model’s own outputs for %s, with its conv–BN pairs folded', async (_name, make, shape, folds) => {
    const model = make === undefined ? await loadSourceModel() : make();
    const x = tf.randomNormal([...shape], 0, 1, 'float32', 11);
    const outputs = model.outputs;
    const compiled = compilePrefix(model.inputs[0]!, outputs);
    const unfolded = compilePrefix(model.inputs[0]!, outputs, { fold: false });
    try {
      expect(compiled.folded.length).toBe(folds);
      expect(unfolded.folded).toEqual([]);
      const want = model.predict(x) as tf.Tensor;
      const [got] = compiled.run(x);
      const [asItself] = unfolded.run(x);
      expectClose(got!, want);
      expectClose(asItself!, want);
      tf.dispose([got!, asItself!, want]);
    } finally {
      compiled.dispose();
      unfolded.dispose();
      x.dispose();
      model.dispose();
    }
  });
});
