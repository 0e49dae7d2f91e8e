/**
 * The default top of a LayersModel, on the classifier heads of the common Keras applications,
 * built in code at toy size with their layer structure and names (keras.applications, Keras 2.x),
 * and of a Teachable Machine export:
 * the top is the backbone's pooled features, never the classifier's output or a probability
 * distribution, and a model whose top cannot be told gets a Left that asks for `top` and lists
 * candidates.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { flattenModel, fromLayersModel } from 'transferkit/tfjs';
import { err, ok } from '../../fixtures/either';
import { teachableMachine } from '../../fixtures/models';
import { expectNoLeakedTensors } from '../../fixtures/tensors';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
expectNoLeakedTensors();

type T = tfl.SymbolicTensor;
const CLASSES = 5;
const apply = (layer: tfl.layers.Layer, x: T | T[]): T => layer.apply(x) as T;
const conv = (x: T, filters: number, name: string, options: { kernelSize?: number; activation?: 'relu' | 'softmax' | 'relu6' | 'linear' } = {}): T =>
  apply(tfl.layers.conv2d({ filters, kernelSize: options.kernelSize ?? 3, padding: 'same', activation: options.activation ?? 'relu', name }), x);
const dense = (x: T, units: number, name: string, activation: 'softmax' | 'sigmoid' | 'linear' | 'relu' = 'softmax'): T => apply(tfl.layers.dense({ units, activation, name }), x);
const gap = (x: T, name: string): T => apply(tfl.layers.globalAveragePooling2d({ name }), x);

/** A stem of two convolutions, 8×8×3 → 8×8×6, ending in the named layer. */
const stem = (end: string): { input: T; features: T } => {
  const input = tfl.input({ shape: [8, 8, 3], name: 'input_1' });
  return { input, features: conv(conv(input, 4, 'stem_conv'), 6, end) };
};

const keras: Record<string, { build: () => tfl.LayersModel; top: string }> = {
  // MobileNet (v1), Keras ≥ 2.4: the classifier is a 1×1 convolution on the pooled features.
  'MobileNet v1 (Keras)': {
    top: 'global_average_pooling2d',
    build: () => {
      const { input, features } = stem('conv_pw_13_relu');
      let x = apply(tfl.layers.reshape({ targetShape: [1, 1, 6], name: 'reshape_1' }), gap(features, 'global_average_pooling2d'));
      x = conv(apply(tfl.layers.dropout({ rate: 0.001, name: 'dropout' }), x), CLASSES, 'conv_preds', { kernelSize: 1, activation: 'linear' });
      x = apply(tfl.layers.activation({ activation: 'softmax', name: 'predictions' }), apply(tfl.layers.reshape({ targetShape: [CLASSES], name: 'reshape_2' }), x));
      return tfl.model({ inputs: input, outputs: x });
    },
  },
  // The MobileNet v1 of tfjs-examples and Teachable Machine: softmax before the last reshape.
  'MobileNet v1 (tfjs)': {
    top: 'global_average_pooling2d_1',
    build: () => {
      const { input, features } = stem('conv_pw_13_relu');
      let x = apply(tfl.layers.reshape({ targetShape: [1, 1, 6], name: 'reshape_1' }), gap(features, 'global_average_pooling2d_1'));
      x = conv(apply(tfl.layers.dropout({ rate: 0.001, name: 'dropout' }), x), CLASSES, 'conv_preds', { kernelSize: 1, activation: 'linear' });
      x = apply(tfl.layers.reshape({ targetShape: [CLASSES], name: 'reshape_2' }), apply(tfl.layers.activation({ activation: 'softmax', name: 'act_softmax' }), x));
      return tfl.model({ inputs: input, outputs: x });
    },
  },
  'MobileNetV2': {
    top: 'global_average_pooling2d',
    build: () => {
      const { input, features } = stem('out_relu');
      return tfl.model({ inputs: input, outputs: dense(gap(features, 'global_average_pooling2d'), CLASSES, 'predictions') });
    },
  },
  // MobileNetV3: pooled, then a 1×1 convolution with hard-swish (here ReLU6), dropout, the 1×1
  // classifier, a flatten and the softmax.
  'MobileNetV3': {
    top: 'global_average_pooling2d',
    build: () => {
      const { input, features } = stem('multiply_17');
      let x = apply(tfl.layers.reshape({ targetShape: [1, 1, 6], name: 'reshape' }), gap(features, 'global_average_pooling2d'));
      x = apply(tfl.layers.activation({ activation: 'relu6', name: 'activation_hard_swish' }), conv(x, 8, 'Conv_2', { kernelSize: 1, activation: 'linear' }));
      x = conv(apply(tfl.layers.dropout({ rate: 0.2, name: 'dropout' }), x), CLASSES, 'Logits', { kernelSize: 1, activation: 'linear' });
      x = apply(tfl.layers.activation({ activation: 'softmax', name: 'Predictions' }), apply(tfl.layers.flatten({ name: 'flatten' }), x));
      return tfl.model({ inputs: input, outputs: x });
    },
  },
  'ResNet50': {
    top: 'avg_pool',
    build: () => {
      const { input, features } = stem('conv5_block3_2_relu');
      const block = apply(tfl.layers.activation({ activation: 'relu', name: 'conv5_block3_out' }), apply(tfl.layers.add({ name: 'conv5_block3_add' }), [features, conv(features, 6, 'conv5_block3_3_conv', { activation: 'linear' })]));
      return tfl.model({ inputs: input, outputs: dense(gap(block, 'avg_pool'), CLASSES, 'predictions') });
    },
  },
  'EfficientNet': {
    top: 'avg_pool',
    build: () => {
      const { input, features } = stem('top_activation');
      const x = apply(tfl.layers.dropout({ rate: 0.2, name: 'top_dropout' }), gap(features, 'avg_pool'));
      return tfl.model({ inputs: input, outputs: dense(x, CLASSES, 'predictions') });
    },
  },
  'InceptionV3': {
    top: 'avg_pool',
    build: () => {
      const { input, features } = stem('activation_93');
      const mixed = apply(tfl.layers.concatenate({ name: 'mixed10' }), [features, conv(features, 4, 'conv2d_94')]);
      return tfl.model({ inputs: input, outputs: dense(gap(mixed, 'avg_pool'), CLASSES, 'predictions') });
    },
  },
  'a multi-label head (sigmoid)': {
    top: 'avg_pool',
    build: () => {
      const { input, features } = stem('features');
      return tfl.model({ inputs: input, outputs: dense(gap(features, 'avg_pool'), CLASSES, 'predictions', 'sigmoid') });
    },
  },
  'a head of logits (no softmax)': {
    top: 'avg_pool',
    build: () => {
      const { input, features } = stem('features');
      return tfl.model({ inputs: input, outputs: dense(gap(features, 'avg_pool'), CLASSES, 'logits', 'linear') });
    },
  },
  'a model without its top (include_top=False, pooling="avg")': {
    top: 'avg_pool',
    build: () => {
      const { input, features } = stem('features');
      return tfl.model({ inputs: input, outputs: gap(features, 'avg_pool') });
    },
  },
  'a model without its top, flattened (include_top=False, then Flatten)': {
    top: 'flatten',
    build: () => {
      const { input, features } = stem('out_relu');
      return tfl.model({ inputs: input, outputs: apply(tfl.layers.flatten({ name: 'flatten' }), features) });
    },
  },
  'a model without its top (include_top=False, no pooling)': {
    top: 'out_relu',
    build: () => {
      const { input, features } = stem('out_relu');
      return tfl.model({ inputs: input, outputs: features });
    },
  },
};

const withModel = (build: () => tfl.LayersModel, body: (m: tfl.LayersModel) => void): void => {
  const m = build();
  try {
    body(m);
  } finally {
    m.dispose();
  }
};

describe('the default top of the common Keras applications', () => {
  it.each(Object.entries(keras))('%s: the pooled features', (_, { build, top }) =>
    withModel(build, (m) => {
      const b = ok(fromLayersModel(m));
      expect(b.layers[b.top]!.name).toBe(top);
    }),
  );
});

describe('a Teachable Machine image export', () => {
  it('is refused as it comes (models nested in models), and once flattened its top is the pooled MobileNet features below the trained head', () => {
    const tm = teachableMachine();
    try {
      expect(err(fromLayersModel(tm.model)).expected).toMatch(/flattenModel/);
      withModel(
        () => ok(flattenModel(tm.model)),
        (flat) => {
          const b = ok(fromLayersModel(flat));
          expect(b.layers[b.top]!.name).toBe('global_average_pooling2d_GlobalAveragePooling2D1');
        },
      );
    } finally {
      tm.dispose();
    }
  });
});

describe('a model whose top cannot be told', () => {
  it('ending in a softmax over a feature map (segmentation-like): asks for top, names candidates, never picks the probabilities', () => {
    const build = (): tfl.LayersModel => {
      const { input, features } = stem('features');
      return tfl.model({ inputs: input, outputs: conv(features, CLASSES, 'segmentation', { activation: 'softmax' }) });
    };
    withModel(build, (m) => {
      const e = err(fromLayersModel(m));
      expect(e.path).toBe('options.top');
      expect(e.message).toMatch(/probabilit/);
      expect(e.message).toMatch(/'features'/);
      expect(ok(fromLayersModel(m, { top: 'features' })).top).toBe(2);
    });
    const separate = (): tfl.LayersModel => {
      const { input, features } = stem('features');
      return tfl.model({ inputs: input, outputs: apply(tfl.layers.softmax({ name: 'probabilities' }), conv(features, CLASSES, 'scores', { activation: 'linear' })) });
    };
    withModel(separate, (m) => {
      expect(err(fromLayersModel(m)).message).toMatch(/'scores'/);
    });
  });

  it('that is all classifier: asks for top', () => {
    const build = (): tfl.LayersModel => tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [4], units: 3, activation: 'softmax' })] });
    withModel(build, (m) => {
      expect(err(fromLayersModel(m)).path).toBe('options.top');
    });
  });
});
