/** The activation store a transfer is given is the one the phases use, and each is freed. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { memoryRowStore, partialFineTune, transfer, type RowStore, type RowStoreFactory } from 'transferkit';
import { diskRowStore } from 'transferkit/node';
import { fromLayersModel } from 'transferkit/tfjs';
import { ok } from '../../fixtures/either';
import { mobileNetLike, toyData } from '../../fixtures/models';
import { expectNoLeakedTensors } from '../../fixtures/tensors';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
expectNoLeakedTensors();

/** A memory store that records what happens to it. */
const recording = () => {
  const stores: Array<{ rowSize: number; appended: number; disposed: boolean }> = [];
  const factory: RowStoreFactory = (rowSize) => {
    const inner = ok(memoryRowStore({ chunkFloats: 64 }))(rowSize);
    const log = { rowSize, appended: 0, disposed: false };
    stores.push(log);
    const store: RowStore = {
      rowSize,
      get rows() {
        return inner.rows;
      },
      get memoryBytes() {
        return inner.memoryBytes;
      },
      append: (values) => {
        log.appended += values.length / rowSize;
        inner.append(values);
      },
      gather: (indices, out) => inner.gather(indices, out),
      dispose: () => {
        log.disposed = true;
        inner.dispose();
      },
    };
    return store;
  };
  return { stores, factory };
};

describe('activationStore', () => {
  it('receives every example once per phase, is freed after it, and changes no result', async () => {
    const model = mobileNetLike();
    const { x, y } = toyData([8, 8, 3], 20, 3);
    const options = { epochs: 2, batchSize: 6, seed: 5 };
    try {
      const { stores, factory } = recording();
      const stored = ok(await transfer(ok(fromLayersModel(model)), partialFineTune, { x, y }, { ...options, activationStore: factory })());
      const plain = ok(await transfer(ok(fromLayersModel(model)), partialFineTune, { x, y }, options)());
      // Two phases (head, then fine-tune), each caching what crosses into its trained part.
      expect(stores.length).toBeGreaterThanOrEqual(2);
      for (const s of stores) {
        expect(s.appended).toBe(20);
        expect(s.disposed).toBe(true);
      }
      expect([...ok(stored.model.weights())]).toEqual([...ok(plain.model.weights())]);
      // Spilling every row to disk changes nothing either.
      const spilled = ok(await transfer(ok(fromLayersModel(model)), partialFineTune, { x, y }, { ...options, activationStore: ok(diskRowStore({ memoryBytes: 0 })) })());
      expect([...ok(spilled.model.weights())]).toEqual([...ok(plain.model.weights())]);
      stored.model.dispose();
      plain.model.dispose();
      spilled.model.dispose();
    } finally {
      x.dispose();
      model.dispose();
    }
  });

  it('must be a factory', async () => {
    const model = mobileNetLike();
    const { x, y } = toyData([8, 8, 3], 6, 3);
    const result = await transfer(ok(fromLayersModel(model)), partialFineTune, { x, y }, { activationStore: 'disk' as unknown as RowStoreFactory })();
    expect(result._tag === 'Left' && result.left).toMatchObject({ _tag: 'InvalidArgument', path: 'options.activationStore' });
    x.dispose();
    model.dispose();
  });
});
