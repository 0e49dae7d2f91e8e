/** L2-SP (a phase's `regularization.startingPoint`): the backbone's kernels held near where they started. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { either as E } from 'fp-ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeRecipe, transfer } from 'transferkit';
import { fromLayersModel } from 'transferkit/tfjs';
import { err, ok } from '../fixtures/either';
import { denseModel, snapshot, toyData } from '../fixtures/models';
import { expectNoLeakedTensors } from '../fixtures/tensors';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

expectNoLeakedTensors();

const recipe = (startingPoint: number) =>
  makeRecipe({
    tap: { kind: 'top' },
    phases: [{ name: 'fine-tune', trains: { kind: 'all' }, epochs: 4, learningRate: 3e-2, optimizer: 'adam', regularization: { l2: 0, startingPoint } }],
    head: { hidden: [], dropout: 0 },
  });

describe('L2-SP', () => {
  it("pulls the backbone's kernels toward the source's: the larger α, the less they move; the source is untouched", async () => {
    const source = denseModel(4);
    const before = snapshot(source);
    const { x, y } = toyData([8], 64, 3, 9);
    try {
      const backbone = ok(fromLayersModel(source, { top: 'd2' }));
      const distance = async (alpha: number): Promise<number> => {
        const r = ok(await transfer(backbone, ok(recipe(alpha)), { x, y }, { seed: 1, batchSize: 16, divergenceGuard: false })());
        const w = ok(r.model.weights());
        r.model.dispose();
        return ['d1/kernel', 'd2/kernel'].reduce((sum, k) => sum + w.get(k)!.reduce((a, v, i) => a + (v - before.get(k)![i]!) ** 2, 0), 0);
      };
      const [free, held] = [await distance(0), await distance(10)];
      expect(free).toBeGreaterThan(0);
      expect(held).toBeLessThan(free / 4);
      expect(snapshot(source)).toEqual(before);
    } finally {
      tf.dispose(x);
      source.dispose();
    }
  });

  it('refuses a negative or non-finite coefficient', () => {
    expect(err(recipe(-1))._tag).toBe('InvalidArgument');
    expect(err(recipe(Number.NaN)).message).toMatch(/startingPoint/);
    expect(E.isRight(recipe(0))).toBe(true);
  });
});
