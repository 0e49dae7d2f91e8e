/**
 * flattenModel: a model that nests models (Teachable Machine's export, Keras's
 * `Sequential([base, pooling, dense])`) becomes one flat functional model that computes the same,
 * shares the source's weight values without changing them, leaks nothing, and can be a backbone
 * with any inner layer a tap.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { featureExtractor, transfer } from 'transferkit';
import { flattenModel, fromLayersModel } from 'transferkit/tfjs';
import { err, ok } from '../../fixtures/either';
import { disposeNested, snapshot, teachableMachine } from '../../fixtures/models';
import { expectNoLeakedTensors } from '../../fixtures/tensors';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
expectNoLeakedTensors();

type T = tfl.SymbolicTensor;
const init = (seed: number) => tfl.initializers.glorotUniform({ seed });

const predictions = (model: tfl.LayersModel, x: tf.Tensor): Float32Array => tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync() as Float32Array);

describe('flattenModel', () => {
  it('flattens a Teachable Machine export: every inner layer its own, the same predictions bit for bit, the source untouched', () => {
    const tm = teachableMachine();
    const x = tf.randomUniform([4, 8, 8, 3], 0, 1, 'float32', 3);
    try {
      const weights = snapshot(tm.model.layers[0] as tfl.LayersModel);
      const before = tf.memory().numTensors;
      const flat = ok(flattenModel(tm.model));
      expect(flat.layers.map((l) => l.name)).toEqual([
        'input_1', 'conv1', 'conv1_bn', 'conv1_relu', 'conv_dw_13', 'conv_pw_13', 'conv_pw_13_relu',
        'global_average_pooling2d_GlobalAveragePooling2D1', 'dense_Dense1', 'dense_Dense2',
      ]);
      expect(flat.layers.some((l) => l instanceof tfl.LayersModel)).toBe(false);
      expect(predictions(flat, x)).toEqual(predictions(tm.model, x));
      // BatchNorm statistics too: every weight of the copy equals the source's.
      const source = tm.model.layers.flatMap((l) => (l as tfl.LayersModel).layers.flatMap((m) => (m instanceof tfl.LayersModel ? m.layers : [m])));
      for (const layer of flat.layers) {
        const from = source.find((l) => l.name === layer.name)!;
        expect(layer.getWeights().map((w) => [...w.dataSync()])).toEqual(from.getWeights().map((w) => [...w.dataSync()]));
      }
      flat.dispose();
      expect(tf.memory().numTensors).toBe(before);
      // The source still predicts, with the same weights.
      expect(snapshot(tm.model.layers[0] as tfl.LayersModel)).toEqual(weights);
      expect(predictions(tm.model, x).every(Number.isFinite)).toBe(true);
    } finally {
      x.dispose();
      tm.dispose();
    }
  });

  it('lets fromLayersModel take it: the top is the pooled features below the head, and a transfer leaves the source as it was', async () => {
    const tm = teachableMachine();
    expect(err(fromLayersModel(tm.model))).toMatchObject({ _tag: 'NotSupported', expected: expect.stringContaining('flattenModel') });
    const flat = ok(flattenModel(tm.model));
    const x = tf.randomUniform([12, 8, 8, 3], 0, 1, 'float32', 4);
    try {
      const backbone = ok(fromLayersModel(flat));
      expect(backbone.layers[backbone.top]!.name).toBe('global_average_pooling2d_GlobalAveragePooling2D1');
      const mobilenet = (tm.model.layers[0] as tfl.LayersModel).layers[0] as tfl.LayersModel;
      const weights = snapshot(mobilenet);
      const result = ok(await transfer(backbone, featureExtractor, { x, y: [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2] }, { epochs: 1, seed: 1 })());
      result.model.dispose();
      expect(snapshot(mobilenet)).toEqual(weights);
    } finally {
      x.dispose();
      flat.dispose();
      tm.dispose();
    }
  });

  it("flattens Keras's Sequential([base, pooling, dropout, dense]) and a functional model calling a nested one", () => {
    const base = tfl.sequential({ name: 'base', layers: [tfl.layers.conv2d({ inputShape: [6, 6, 2], filters: 3, kernelSize: 3, name: 'out_relu', activation: 'relu', kernelInitializer: init(7) })] });
    const model = tfl.sequential({
      layers: [base, tfl.layers.globalAveragePooling2d({ name: 'gap' }), tfl.layers.dropout({ rate: 0.2, name: 'dropout' }), tfl.layers.dense({ units: 2, activation: 'softmax', name: 'dense', kernelInitializer: init(8) })],
    });
    const input = tfl.input({ shape: [6, 6, 2], name: 'image' });
    const functional = tfl.model({ inputs: input, outputs: tfl.layers.flatten({ name: 'flatten' }).apply(base.apply(input)) as T });
    const x = tf.randomUniform([3, 6, 6, 2], 0, 1, 'float32', 5);
    try {
      const flat = ok(flattenModel(model));
      expect(flat.layers.map((l) => l.name)).toEqual([expect.any(String), 'out_relu', 'gap', 'dropout', 'dense']);
      expect(ok(fromLayersModel(flat)).layers[ok(fromLayersModel(flat)).top]!.name).toBe('gap');
      expect(predictions(flat, x)).toEqual(predictions(model, x));
      const other = ok(flattenModel(functional));
      // The base's layer keeps its name; the second copy of it (another flat model) is its own object.
      expect(other.layers.map((l) => l.name)).toEqual(['image', 'out_relu', 'flatten']);
      expect(predictions(other, x)).toEqual(predictions(functional, x));
      flat.dispose();
      other.dispose();
    } finally {
      x.dispose();
      disposeNested(model, functional, base);
    }
  });

  it('renames a layer name that two nested models share, and keeps the rest', () => {
    const a = tfl.sequential({ name: 'a', layers: [tfl.layers.dense({ inputShape: [4], units: 4, name: 'dense', kernelInitializer: init(1) })] });
    const b = tfl.sequential({ name: 'b', layers: [tfl.layers.dense({ inputShape: [4], units: 2, name: 'dense', kernelInitializer: init(2) })] });
    const model = tfl.sequential({ layers: [a, b] });
    const x = tf.randomUniform([2, 4], 0, 1, 'float32', 6);
    try {
      const flat = ok(flattenModel(model));
      expect(flat.layers.slice(1).map((l) => l.name)).toEqual(['dense', 'dense_1']);
      expect(predictions(flat, x)).toEqual(predictions(model, x));
      flat.dispose();
    } finally {
      x.dispose();
      disposeNested(model, a, b);
    }
  });

  it('refuses what it cannot flatten, with a typed Left and nothing left allocated', () => {
    const inner = tfl.sequential({ name: 'inner', layers: [tfl.layers.dense({ inputShape: [4], units: 4, name: 'shared_dense' })] });
    const input = tfl.input({ shape: [4] });
    const twice = tfl.model({ inputs: input, outputs: inner.apply(inner.apply(input)) as T });
    try {
      const before = tf.memory().numTensors;
      expect(err(flattenModel(twice))).toMatchObject({ _tag: 'NotSupported', path: 'model', received: expect.stringContaining("'shared_dense', called more than once") });
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      twice.dispose();
      try {
        inner.dispose();
      } catch {
        // freed with the model
      }
    }
    expect(err(flattenModel({} as tfl.LayersModel))).toMatchObject({ _tag: 'InvalidArgument', path: 'model' });
    expect(err(flattenModel(null as unknown as tfl.LayersModel))).toMatchObject({ _tag: 'InvalidArgument', path: 'model' });
    const gone = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [4], units: 2 })] });
    gone.dispose();
    expect(err(flattenModel(gone))).toMatchObject({ _tag: 'InvalidArgument', received: 'a disposed model' });
  });
});
