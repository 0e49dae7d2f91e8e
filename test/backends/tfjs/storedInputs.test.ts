/**
 * Inputs kept in a row store train, embed and predict exactly as the same inputs in one tensor, and
 * the store stays the caller's: never appended to, never freed.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { earlierLayerTap, featureExtractor, fromScratch, fullFineTune, memoryRowStore, partialFineTune, transfer, type Recipe, type RowStore } from 'transferkit';
import { diskRowStore } from 'transferkit/node';
import { fromLayersModel, type StoredInputs } from 'transferkit/tfjs';
import { err, ok } from '../../fixtures/either';
import { mobileNetLike, toyData } from '../../fixtures/models';
import { expectNoLeakedTensors } from '../../fixtures/tensors';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
expectNoLeakedTensors();

/** A store that counts what is done to it, holding `x`'s rows. */
const storeOf = (x: tf.Tensor, inner: RowStore = ok(memoryRowStore({ chunkFloats: 100 }))(x.size / x.shape[0]!)) => {
  inner.append(x.dataSync() as Float32Array);
  const log = { appended: 0, disposed: false, gathered: 0 };
  const store: RowStore = {
    rowSize: inner.rowSize,
    get rows() {
      return inner.rows;
    },
    get memoryBytes() {
      return inner.memoryBytes;
    },
    append: (values) => {
      log.appended += values.length;
      inner.append(values);
    },
    gather: (indices, out) => {
      log.gathered += indices.length;
      inner.gather(indices, out);
    },
    dispose: () => {
      log.disposed = true;
      inner.dispose();
    },
  };
  return { inputs: { store, shape: x.shape.slice(1) } satisfies StoredInputs, log, free: () => inner.dispose() };
};

/** A run's history without its timings (`…Ms`), which differ from run to run. */
const untimed = (history: unknown): unknown => JSON.parse(JSON.stringify(history, (key, value: unknown) => (key.endsWith('Ms') ? undefined : value)));

const recipes: Array<[string, Recipe]> = [
  ['feature extractor', featureExtractor],
  ['earlier-layer tap', earlierLayerTap],
  ['partial fine-tune', partialFineTune],
  ['full fine-tune', fullFineTune],
  ['from scratch', fromScratch],
];

describe('stored inputs', () => {
  it.each(recipes)('%s: trains to the same weights and predictions as a tensor, and leaves the store as it was', async (_, recipe) => {
    const model = mobileNetLike();
    const { x, y } = toyData([8, 8, 3], 18, 3);
    const stored = storeOf(x);
    const backbone = ok(fromLayersModel(model));
    const options = { epochs: 2, batchSize: 5, seed: 3, validation: { split: 0.2 } };
    try {
      const fromTensor = ok(await transfer(backbone, recipe, { x, y }, options)());
      const fromStore = ok(await transfer(backbone, recipe, { x: stored.inputs, y }, options)());
      expect([...ok(fromStore.model.weights())]).toEqual([...ok(fromTensor.model.weights())]);
      expect(untimed(fromStore.history)).toEqual(untimed(fromTensor.history));
      const p = ok(await fromStore.model.predict(stored.inputs, { batchSize: 4 })());
      expect(p).toEqual(ok(await fromTensor.model.predict(x)()));
      expect(stored.log).toMatchObject({ appended: 0, disposed: false });
      expect(stored.log.gathered).toBeGreaterThan(0);
      expect(stored.inputs.store.rows).toBe(18);
      fromTensor.model.dispose();
      fromStore.model.dispose();
    } finally {
      stored.free();
      x.dispose();
      model.dispose();
    }
  });

  it('spilled to disk, with a separate validation set also stored, trains as tensors do', async () => {
    const model = mobileNetLike();
    const { x, y } = toyData([8, 8, 3], 16, 2);
    const { x: vx, y: vy } = toyData([8, 8, 3], 6, 2, 11);
    const disk = ok(diskRowStore({ memoryBytes: 0 }));
    const train = storeOf(x, disk(192));
    const held = storeOf(vx, disk(192));
    const backbone = ok(fromLayersModel(model));
    try {
      const options = (v: tf.Tensor | StoredInputs) => ({ epochs: 2, batchSize: 4, seed: 8, validation: { data: { x: v, y: vy } } });
      const a = ok(await transfer(backbone, partialFineTune, { x, y }, options(vx))());
      const b = ok(await transfer(backbone, partialFineTune, { x: train.inputs, y }, options(held.inputs))());
      expect([...ok(b.model.weights())]).toEqual([...ok(a.model.weights())]);
      expect(untimed(b.history)).toEqual(untimed(a.history));
      a.model.dispose();
      b.model.dispose();
    } finally {
      train.free();
      held.free();
      tf.dispose([x, vx]);
      model.dispose();
    }
  });

  it('embeds as the tensor does, at several layers, and warns of a value range as the tensor does', async () => {
    const model = mobileNetLike();
    const { x } = toyData([8, 8, 3], 7, 2);
    const scaled = tf.mul(x, 255);
    const stored = storeOf(scaled);
    try {
      const backbone = ok(fromLayersModel(model, { inputRange: [0, 1] }));
      const at = [backbone.layers[2]!, backbone.layers[backbone.top]!];
      const options = { pooling: 'average' as const, batchSize: 3 };
      expect(ok(await backbone.embedEach!(stored.inputs, at, options)())).toEqual(ok(await backbone.embedEach!(scaled, at, options)()));
      const warning = backbone.inputWarning!(stored.inputs);
      expect(warning).toBeDefined();
      expect(warning).toBe(backbone.inputWarning!(scaled));
    } finally {
      stored.free();
      tf.dispose([x, scaled]);
      model.dispose();
    }
  });

  it('are checked as tensors are: the store, the example shape, at least one row, finite values', async () => {
    const model = mobileNetLike();
    const backbone = ok(fromLayersModel(model));
    const rows = ok(memoryRowStore())(192);
    const x = { store: rows, shape: [8, 8, 3] };
    try {
      expect(err(backbone.count(x))).toMatchObject({ _tag: 'InvalidArgument', path: 'x' });
      rows.append(new Float32Array(192 * 3).fill(0.5));
      expect(ok(backbone.count(x))).toBe(3);
      expect(err(backbone.count({ store: rows, shape: [8, 8] }))).toMatchObject({ _tag: 'ShapeMismatch', path: 'x.shape' });
      expect(err(backbone.count({ store: rows, shape: [4, 16, 3] }))).toMatchObject({ _tag: 'ShapeMismatch', path: 'x.shape' });
      expect(err(backbone.count({ store: rows, shape: [8, 8, -3] }))).toMatchObject({ _tag: 'InvalidArgument', path: 'x.shape' });
      expect(err(backbone.count({ store: { rows: 3 } as unknown as RowStore, shape: [8, 8, 3] }))).toMatchObject({ _tag: 'InvalidArgument', path: 'x.store' });
      const wide = ok(memoryRowStore())(200);
      wide.append(new Float32Array(200));
      expect(err(backbone.count({ store: wide, shape: [8, 8, 3] }))).toMatchObject({ _tag: 'ShapeMismatch', path: 'x.store.rowSize' });
      // A row appended later is read: the check is not fooled by an earlier pass.
      const bad = new Float32Array(192);
      bad[100] = Number.NaN;
      rows.append(bad);
      expect(err(backbone.count(x))).toMatchObject({ _tag: 'InvalidArgument', path: 'x row 3' });
      const result = await transfer(backbone, featureExtractor, { x, y: [0, 1, 0, 1] }, { epochs: 1 })();
      expect(result._tag === 'Left' && result.left).toMatchObject({ _tag: 'InvalidArgument', path: 'x row 3' });
    } finally {
      rows.dispose();
      model.dispose();
    }
  });
});
