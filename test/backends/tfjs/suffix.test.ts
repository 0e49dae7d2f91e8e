/**
 * Running a trainable suffix layer by layer: the same output and the same gradients, bit for bit,
 * as `suffix.apply`, on cpu and on wasm with the kernel pack — without the input gradient of the
 * convolutions that read the (cached) inputs, which nothing needs.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { registerTransferKernels } from 'transferkit/tfjs';
import { applySuffix } from '../../../src/backends/tfjs/suffix';
import { ok } from '../../fixtures/either';

/**
 * Two inputs, as a suffix reading two cached tensors: a bias-free 1 × 1 convolution of the first
 * and a strided 3 × 3 one with a bias of the second (both without their input gradient), BatchNorm,
 * ReLU6, a depthwise convolution, a residual add, a convolution of a computed tensor (with its
 * input gradient) and one with a ReLU (which tfjs runs unfused while it records gradients).
 */
const suffixModel = (): tfl.LayersModel => {
  let seed = 1;
  const init = () => tfl.initializers.heNormal({ seed: seed++ });
  const a = tfl.input({ shape: [6, 6, 4] });
  const b = tfl.input({ shape: [12, 12, 3] });
  const apply = (layer: tfl.layers.Layer, x: tfl.SymbolicTensor | tfl.SymbolicTensor[]) => layer.apply(x) as tfl.SymbolicTensor;
  const first = apply(tfl.layers.conv2d({ filters: 8, kernelSize: 1, useBias: false, kernelInitializer: init(), name: 'plain_first' }), a);
  const strided = apply(tfl.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: init(), name: 'biased' }), b);
  let h = apply(tfl.layers.add({}), [first, strided]);
  h = apply(tfl.layers.reLU({ maxValue: 6 }), apply(tfl.layers.batchNormalization({ name: 'bn' }), h));
  h = apply(tfl.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false, depthwiseInitializer: init() }), h);
  h = apply(tfl.layers.conv2d({ filters: 5, kernelSize: 1, useBias: false, kernelInitializer: init(), name: 'plain_later' }), h);
  const relu = apply(tfl.layers.conv2d({ filters: 5, kernelSize: 3, activation: 'relu', kernelInitializer: init(), name: 'relu_first' }), b);
  h = apply(tfl.layers.add({}), [h, apply(tfl.layers.globalAveragePooling2d({}), relu)]);
  return tfl.model({ inputs: [a, b], outputs: h });
};

/** The loss's value and gradients over every trainable weight, and the kernels the gradients ran. */
const gradients = async (run: () => tf.Tensor, variables: tf.Variable[]): Promise<{ values: Float32Array[]; kernels: string[] }> => {
  let values: Float32Array[] = [];
  const profile = await tf.profile(() => {
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(run())) as tf.Scalar, variables);
      values = [value, ...variables.map((v) => grads[v.name]!)].map((t) => t.dataSync() as Float32Array);
    });
  });
  return { values, kernels: profile.kernels.map((k) => k.name) };
};

describe.each(['cpu', 'wasm'])('applySuffix on %s', (backend) => {
  it('gives the bits of suffix.apply, output and gradients, without the input gradients nothing reads', async () => {
    await tf.setBackend(backend);
    const pack = ok(registerTransferKernels(backend));
    const model = suffixModel();
    const xs = [tf.randomNormal([3, 6, 6, 4], 0, 1, 'float32', 5), tf.randomNormal([3, 12, 12, 3], 0, 1, 'float32', 6)];
    try {
      const before = tf.memory().numTensors;
      const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const stock = await gradients(() => model.apply(xs, { training: false }) as tf.Tensor, variables);
      const ours = await gradients(() => applySuffix(model, xs, false), variables);
      expect(tf.memory().numTensors).toBe(before);
      expect(ours.values).toEqual(stock.values);
      const inputGradients = (k: string[]) => k.filter((name) => name === 'Conv2DBackpropInput').length;
      // tfjs-layers: the three linear convolutions' input gradients (the ReLU one's is pruned
      // already); here only the one of a computed tensor.
      expect([inputGradients(stock.kernels), inputGradients(ours.kernels)]).toEqual([3, 1]);
      // The forward pass alone, in training mode (BatchNorm on batch statistics) too.
      for (const training of [false, true]) {
        const [a, b] = tf.tidy(() => [model.apply(xs, { training }) as tf.Tensor, applySuffix(model, xs, training)]);
        expect(b!.dataSync()).toEqual(a!.dataSync());
        tf.dispose([a!, b!]);
      }
    } finally {
      tf.dispose(xs);
      model.dispose();
      pack.unregister();
    }
  });
});
