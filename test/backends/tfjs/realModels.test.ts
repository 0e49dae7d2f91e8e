/**
 * What real pretrained models need of the backend, on small models built like them: a classifier
 * head of several Dense layers on pooled features (as the Keras MobileNetV2 in nsfwjs has), a
 * Keras MobileNet v1 head (a 1×1 convolution on a 1×1 map), taps that land on block outputs, not
 * inside a residual branch or on padding, and int32 images (what `tf.browser.fromPixels` returns).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { earlierLayerTap, embed, featureExtractor, fullFineTune, rankLayers, transfer } from 'transferkit';
import { resolveTap } from '../../../src/core/resolveTap';
import { fromLayersModel } from 'transferkit/tfjs';
import { ok } from '../../fixtures/either';
import { expectNoLeakedTensors } from '../../fixtures/tensors';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
expectNoLeakedTensors();

const seeded = (seed: number) => tfl.initializers.glorotUniform({ seed });

/** pad → conv → BN → ReLU, a residual block, then pooling and a head of `head` layers. */
const residualNet = (head: 'dense-stack' | 'mobilenet-v1' | 'single'): tfl.LayersModel => {
  const input = tfl.input({ shape: [8, 8, 3], name: 'image' });
  const padded = tfl.layers.zeroPadding2d({ padding: 1, name: 'stem_pad' }).apply(input) as tfl.SymbolicTensor;
  const stem = tfl.layers.reLU({ name: 'stem_relu' }).apply(
    tfl.layers.batchNormalization({ name: 'stem_bn' }).apply(tfl.layers.conv2d({ filters: 4, kernelSize: 3, name: 'stem_conv', kernelInitializer: seeded(1) }).apply(padded)),
  ) as tfl.SymbolicTensor;
  const branch = tfl.layers.batchNormalization({ name: 'block_project_bn' }).apply(
    tfl.layers.conv2d({ filters: 4, kernelSize: 1, name: 'block_project', kernelInitializer: seeded(2) }).apply(stem),
  ) as tfl.SymbolicTensor;
  const added = tfl.layers.add({ name: 'block_add' }).apply([stem, branch]) as tfl.SymbolicTensor;
  const top = tfl.layers.conv2d({ filters: 6, kernelSize: 1, activation: 'relu', name: 'top_conv', kernelInitializer: seeded(3) }).apply(added) as tfl.SymbolicTensor;
  let out: tfl.SymbolicTensor;
  if (head === 'dense-stack') {
    const flat = tfl.layers.flatten({ name: 'flatten' }).apply(tfl.layers.averagePooling2d({ poolSize: 8, name: 'pool' }).apply(top)) as tfl.SymbolicTensor;
    const hidden = tfl.layers.dropout({ rate: 0.5, name: 'drop' }).apply(tfl.layers.dense({ units: 5, activation: 'relu', name: 'hidden', kernelInitializer: seeded(4) }).apply(flat));
    out = tfl.layers.dense({ units: 3, activation: 'softmax', name: 'out', kernelInitializer: seeded(5) }).apply(hidden) as tfl.SymbolicTensor;
  } else if (head === 'mobilenet-v1') {
    const pooled = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(top) as tfl.SymbolicTensor;
    const shaped = tfl.layers.dropout({ rate: 0.1, name: 'drop' }).apply(tfl.layers.reshape({ targetShape: [1, 1, 6], name: 'reshape_1' }).apply(pooled));
    const preds = tfl.layers.activation({ activation: 'softmax', name: 'act_softmax' }).apply(tfl.layers.conv2d({ filters: 3, kernelSize: 1, name: 'conv_preds', kernelInitializer: seeded(6) }).apply(shaped));
    out = tfl.layers.reshape({ targetShape: [3], name: 'reshape_2' }).apply(preds) as tfl.SymbolicTensor;
  } else {
    out = tfl.layers.dense({ units: 3, activation: 'softmax', name: 'out' }).apply(tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(top)) as tfl.SymbolicTensor;
  }
  return tfl.model({ inputs: input, outputs: out });
};

const withNet = async (head: Parameters<typeof residualNet>[0], body: (m: tfl.LayersModel) => Promise<void> | void) => {
  const model = residualNet(head);
  try {
    await body(model);
  } finally {
    model.dispose();
  }
};

describe('the default top of a model with a classifier head', () => {
  it('is the pooled features below a head of several Dense layers, not the head’s hidden layer', () =>
    withNet('dense-stack', (m) => {
      const b = ok(fromLayersModel(m));
      expect(b.layers[b.top]!.name).toBe('flatten');
    }));

  it('is the global pooling below a Keras MobileNet v1 head (reshape, dropout, 1×1 conv, softmax, reshape)', () =>
    withNet('mobilenet-v1', (m) => {
      const b = ok(fromLayersModel(m));
      expect(b.layers[b.top]!.name).toBe('gap');
    }));

  it('is still the layer under a single Dense classifier', () =>
    withNet('single', (m) => {
      const b = ok(fromLayersModel(m));
      expect(b.layers[b.top]!.name).toBe('gap');
    }));
});

describe('taps', () => {
  it('land on the block output, not inside a residual branch, and never on padding', () =>
    withNet('single', (m) => {
      const b = ok(fromLayersModel(m));
      const names = b.layers.map((l) => l.name);
      // The branch's BatchNorm feeds only the Add: a tap there moves on to the block's output.
      const inBranch = names.indexOf('block_project_bn');
      const depth = (inBranch - 1) / (b.top - 1);
      expect(ok(resolveTap(b.layers, b.top, { kind: 'relative-depth', depth })).name).toBe('block_add');
      // The padding is the first layer after the input: the smallest depth lands on it.
      expect(names.indexOf('stem_pad')).toBe(1);
      expect(ok(resolveTap(b.layers, b.top, { kind: 'relative-depth', depth: 0.01 })).name).not.toBe('stem_pad');
    }));

  it('offered to rankLayers are block outputs and pooled features, not padding or a branch’s inner BatchNorm', async () =>
    withNet('dense-stack', async (m) => {
      const b = ok(fromLayersModel(m));
      const x = tf.randomNormal([12, 8, 8, 3], 0, 1, 'float32', 4);
      try {
        const ranked = ok(await rankLayers(b, { x, y: Array.from({ length: 12 }, (_, i) => i % 3) })());
        const names = ranked.map((r) => r.layer.name).sort();
        expect(names).toContain('block_add');
        expect(names).toContain('flatten');
        expect(names).not.toContain('stem_pad');
        expect(names).not.toContain('block_project_bn');
      } finally {
        x.dispose();
      }
    }));
});

describe('int32 images', () => {
  it('embed, train and predict as the same values in float32 would', () =>
    withNet('single', async (m) => {
      const b = ok(fromLayersModel(m));
      const floats = tf.tidy(() => tf.round(tf.mul(tf.randomUniform([9, 8, 8, 3], 0, 1, 'float32', 5), 255)));
      const ints = tf.cast(floats, 'int32');
      const y = [0, 1, 2, 0, 1, 2, 0, 1, 2];
      try {
        const at = b.layers[b.top]!;
        expect(ok(await embed(b, ints, { kind: 'layer', name: at.name })()).data).toEqual(ok(await embed(b, floats, { kind: 'layer', name: at.name })()).data);
        for (const recipe of [featureExtractor, earlierLayerTap, fullFineTune]) {
          const fromInts = ok(await transfer(b, recipe, { x: ints, y }, { epochs: 1, seed: 1 })());
          const fromFloats = ok(await transfer(b, recipe, { x: floats, y }, { epochs: 1, seed: 1 })());
          try {
            expect(ok(await fromInts.model.predict(ints)()).data).toEqual(ok(await fromFloats.model.predict(floats)()).data);
          } finally {
            fromInts.model.dispose();
            fromFloats.model.dispose();
          }
        }
      } finally {
        tf.dispose([floats, ints]);
      }
    }));
});
