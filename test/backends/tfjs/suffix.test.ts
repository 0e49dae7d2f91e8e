/**
 * Running a trainable suffix layer by layer: the same output and the same gradients, bit for bit,
 * as `suffix.apply`, on cpu and on wasm with the kernel pack — without the input gradient of the
 * convolutions that read the (cached) inputs, which nothing needs; and with each BatchNorm after a
 * convolution folded into it in inference mode, the same to float32 rounding; and with each ReLU
 * layer that has a maximum (ReLU6) in one pass each way, the same bits, at 0 and at the maximum too.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { CLIP_GRADIENT, registerTransferKernels } from 'transferkit/tfjs';
import { ROWS_TIMES } from '../../../src/backends/tfjs/kernels/register';
import { applySuffix, useFolding } from '../../../src/backends/tfjs/suffix';
import { ok } from '../../fixtures/either';
import { expectClose } from '../../fixtures/tensors';

/**
 * Two inputs, as a suffix reading two cached tensors: a bias-free 1 × 1 convolution of the first
 * and a strided 3 × 3 one with a bias of the second (both without their input gradient), BatchNorm
 * after their sum (nothing to fold into), ReLU6, a depthwise convolution and a convolution of a
 * computed tensor (with its input gradient), each followed by a BatchNorm it can absorb, a
 * convolution with a bias of the first input followed by one (folded and without its input
 * gradient), a residual add, and a convolution with a ReLU (which tfjs runs unfused while it
 * records gradients). Every BatchNorm has statistics and γ, β away from their initial 0 and 1.
 */
const suffixModel = (): tfl.LayersModel => {
  let seed = 1;
  const init = () => tfl.initializers.heNormal({ seed: seed++ });
  const a = tfl.input({ shape: [6, 6, 4] });
  const b = tfl.input({ shape: [12, 12, 3] });
  const apply = (layer: tfl.layers.Layer, x: tfl.SymbolicTensor | tfl.SymbolicTensor[]) => layer.apply(x) as tfl.SymbolicTensor;
  const norm = (name: string) => {
    const k = seed++;
    return tfl.layers.batchNormalization({
      name,
      gammaInitializer: tfl.initializers.randomUniform({ minval: 0.5, maxval: 1.5, seed: k }),
      betaInitializer: tfl.initializers.randomNormal({ stddev: 0.3, seed: k + 100 }),
      movingMeanInitializer: tfl.initializers.randomNormal({ stddev: 0.3, seed: k + 200 }),
      movingVarianceInitializer: tfl.initializers.randomUniform({ minval: 0.5, maxval: 2, seed: k + 300 }),
    });
  };
  const first = apply(tfl.layers.conv2d({ filters: 8, kernelSize: 1, useBias: false, kernelInitializer: init(), name: 'plain_first' }), a);
  const strided = apply(tfl.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: init(), name: 'biased' }), b);
  let h = apply(tfl.layers.add({}), [first, strided]);
  h = apply(tfl.layers.reLU({ maxValue: 6 }), apply(norm('bn'), h));
  h = apply(tfl.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false, depthwiseInitializer: init() }), h);
  h = apply(tfl.layers.reLU({ maxValue: 6 }), apply(norm('bn_depthwise'), h));
  h = apply(norm('bn_later'), apply(tfl.layers.conv2d({ filters: 5, kernelSize: 1, useBias: false, kernelInitializer: init(), name: 'plain_later' }), h));
  const side = apply(norm('bn_first'), apply(tfl.layers.conv2d({ filters: 5, kernelSize: 1, kernelInitializer: init(), biasInitializer: tfl.initializers.randomNormal({ seed: 50 }), name: 'biased_first' }), a));
  h = apply(tfl.layers.add({}), [h, side]);
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

const count = (kernels: string[], name: string): number => kernels.filter((k) => k === name).length;

/** The loss and gradients over every trainable weight by `suffix.apply` and by `applySuffix` (inference mode), leaving no tensor behind. */
const stockAndOurs = async (model: tfl.LayersModel, xs: tf.Tensor[]): Promise<{ stock: Awaited<ReturnType<typeof gradients>>; ours: Awaited<ReturnType<typeof gradients>> }> => {
  const before = tf.memory().numTensors;
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const stock = await gradients(() => model.apply(xs, { training: false }) as tf.Tensor, variables);
  const ours = await gradients(() => applySuffix(model, xs, false), variables);
  expect(tf.memory().numTensors).toBe(before);
  return { stock, ours };
};

describe.each(['cpu', 'wasm'])('applySuffix on %s', (backend) => {
  it('gives the bits of suffix.apply, output and gradients, without the input gradients nothing reads (folding off)', async () => {
    await tf.setBackend(backend);
    const pack = ok(registerTransferKernels(backend));
    const model = suffixModel();
    const xs = [tf.randomNormal([3, 6, 6, 4], 0, 1, 'float32', 5), tf.randomNormal([3, 12, 12, 3], 0, 1, 'float32', 6)];
    useFolding(false);
    try {
      const { stock, ours } = await stockAndOurs(model, xs);
      expect(ours.values).toEqual(stock.values);
      // tfjs-layers: the four linear convolutions' input gradients (the ReLU one's is pruned
      // already); here only the one of a computed tensor.
      expect([count(stock.kernels, 'Conv2DBackpropInput'), count(ours.kernels, 'Conv2DBackpropInput')]).toEqual([4, 1]);
      // On wasm, the 1×1 convolution of an input with 8 filters runs as a product of rows.
      expect(count(ours.kernels, ROWS_TIMES)).toBe(backend === 'wasm' ? 1 : 0);
      // Each ReLU6 layer is one clip forward and one kernel backward: tfjs-layers' Relu and its
      // gradient's Step are left only for the convolution with a ReLU.
      expect([count(stock.kernels, 'Relu'), count(ours.kernels, 'Relu')]).toEqual([3, 1]);
      expect([count(stock.kernels, 'Step'), count(ours.kernels, 'Step')]).toEqual([3, 1]);
      expect([count(stock.kernels, 'ClipByValue'), count(ours.kernels, 'ClipByValue'), count(ours.kernels, 'Relu6')]).toEqual([2, 0, 2]);
      // The forward pass alone, in training mode (BatchNorm on batch statistics) too.
      for (const training of [false, true]) {
        const [a, b] = tf.tidy(() => [model.apply(xs, { training }) as tf.Tensor, applySuffix(model, xs, training)]);
        expect(b!.dataSync()).toEqual(a!.dataSync());
        tf.dispose([a!, b!]);
      }
    } finally {
      useFolding(true);
      tf.dispose(xs);
      model.dispose();
      pack.unregister();
    }
  });

  it('folds each BatchNorm that follows a convolution into it in inference mode: the same outputs and gradients to float32 rounding', async () => {
    await tf.setBackend(backend);
    const pack = ok(registerTransferKernels(backend));
    const model = suffixModel();
    const xs = [tf.randomNormal([3, 6, 6, 4], 0, 1, 'float32', 5), tf.randomNormal([3, 12, 12, 3], 0, 1, 'float32', 6)];
    try {
      const statistics = () => model.weights.filter((w) => /moving/.test(w.originalName)).map((w) => Array.from(w.read().dataSync()));
      const held = statistics();
      const { stock, ours } = await stockAndOurs(model, xs);
      expect(statistics()).toEqual(held);
      // Every trainable weight's gradient (the folded BatchNorms' γ and β among them) and the loss.
      expect(ours.values.length).toBe(stock.values.length);
      stock.values.forEach((expected, k) => expectClose(ours.values[k]!, expected, 2e-5));
      // Three of the four BatchNorms ran inside convolutions; the one after a sum ran as itself.
      expect([count(stock.kernels, 'FusedBatchNorm'), count(ours.kernels, 'FusedBatchNorm')]).toEqual([4, 1]);
      // The two convolutions of an input still leave out their input gradient; the folded
      // depthwise and later convolutions compute theirs.
      expect(count(ours.kernels, 'Conv2DBackpropInput')).toBe(1);
      const forward = tf.tidy(() => [model.apply(xs, { training: false }) as tf.Tensor, applySuffix(model, xs, false)]);
      expectClose(forward[1]!.dataSync(), forward[0]!.dataSync(), 2e-5);
      // In training mode BatchNorm normalises with the batch's statistics: nothing folds.
      const trained = tf.tidy(() => [model.apply(xs, { training: true }) as tf.Tensor, applySuffix(model, xs, true)]);
      expect(trained[1]!.dataSync()).toEqual(trained[0]!.dataSync());
      tf.dispose([...forward, ...trained]);
    } finally {
      tf.dispose(xs);
      model.dispose();
      pack.unregister();
    }
  });

  it.each([
    ['with', 6, true],
    ['without', 6, false],
    ['with', 4, true],
    ['without', 4, false],
  ])('runs a ReLU with a maximum in one pass each way, %s the pack, with tfjs-layers\' values and gradients at the edges (maximum %d)', async (_with, max, pack) => {
    await tf.setBackend(backend);
    const registered = pack ? ok(registerTransferKernels(backend)) : undefined;
    const input = tfl.input({ shape: [12] });
    const model = tfl.model({ inputs: input, outputs: tfl.layers.reLU({ maxValue: max }).apply(input) as tfl.SymbolicTensor });
    // Below, at and just above 0 (the smallest float32 above it, then a tiny normal one), inside,
    // at and above the maximum, and −0 (for 6 only: another maximum's clip keeps its sign).
    const s = max / 6;
    const x = tf.tensor2d([[-1, 0, 2 ** -149, 1e-30, 3 * s, max, 6.5 * s, max === 6 ? -0 : -2, 7 * s, -1e-30, max - 1e-6, 2 * s]]);
    const weights = tf.tensor2d([[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]]);
    try {
      const before = tf.memory().numTensors;
      const run = (f: (t: tf.Tensor) => tf.Tensor): { value: Float32Array; gradient: Float32Array; kernels: Promise<string[]> } => {
        let value: Float32Array = new Float32Array();
        let gradient: Float32Array = new Float32Array();
        const kernels = tf
          .profile(() => {
            tf.tidy(() => {
              value = f(x).dataSync() as Float32Array;
              gradient = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(f(t), weights)))(x).dataSync() as Float32Array;
            });
          })
          .then((p) => p.kernels.map((k) => k.name));
        return { value, gradient, kernels };
      };
      const stock = run((t) => model.apply(t) as tf.Tensor);
      const ours = run((t) => applySuffix(model, [t], false));
      expect(ours.value).toEqual(stock.value);
      expect(ours.gradient).toEqual(stock.gradient);
      expect(Array.from(ours.gradient)).toEqual([0, 0, 3, 4, 5, 6, 0, 0, 0, 0, 11, 12]);
      const kernels = await ours.kernels;
      expect(count(kernels, 'Relu')).toBe(0);
      expect(count(kernels, CLIP_GRADIENT)).toBe(pack && registered!.kernels.includes(CLIP_GRADIENT) ? 1 : 0);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      tf.dispose([x, weights]);
      model.dispose();
      registered?.unregister();
    }
  });

  it('runs a 1×1 convolution of a computed tensor, folded with its BatchNorm, as products of rows on wasm: the layers\' outputs and gradients', async () => {
    await tf.setBackend(backend);
    const pack = ok(registerTransferKernels(backend));
    let seed = 20;
    const init = () => tfl.initializers.heNormal({ seed: seed++ });
    const input = tfl.input({ shape: [5, 5, 3] });
    const apply = (layer: tfl.layers.Layer, x: tfl.SymbolicTensor) => layer.apply(x) as tfl.SymbolicTensor;
    let h = apply(tfl.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', kernelInitializer: init() }), input);
    h = apply(tfl.layers.conv2d({ filters: 16, kernelSize: 1, useBias: false, kernelInitializer: init() }), h);
    h = apply(
      tfl.layers.batchNormalization({
        gammaInitializer: tfl.initializers.randomUniform({ minval: 0.5, maxval: 1.5, seed: 1 }),
        movingMeanInitializer: tfl.initializers.randomNormal({ stddev: 0.3, seed: 2 }),
        movingVarianceInitializer: tfl.initializers.randomUniform({ minval: 0.5, maxval: 2, seed: 3 }),
      }),
      h,
    );
    const model = tfl.model({ inputs: input, outputs: apply(tfl.layers.reLU({ maxValue: 6 }), h) });
    const xs = [tf.randomNormal([3, 5, 5, 3], 0, 1, 'float32', 9)];
    try {
      const { stock, ours } = await stockAndOurs(model, xs);
      expect(ours.values.length).toBe(stock.values.length);
      stock.values.forEach((expected, k) => expectClose(ours.values[k]!, expected, 2e-5));
      // Forward and the input gradient (dY · Wᵀ, 8 columns) as products of rows on wasm.
      expect(count(ours.kernels, ROWS_TIMES)).toBe(backend === 'wasm' ? 2 : 0);
    } finally {
      tf.dispose(xs);
      model.dispose();
      pack.unregister();
    }
  });
});
