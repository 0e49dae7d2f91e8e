/**
 * The `ranked` tap of the earlier-layer preset on the tfjs backend: transfer scores the candidate
 * layers by LogME on the training examples, in one embedding pass, and taps the best; nothing leaks.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { earlierLayerTap, makeRecipe, rankLayers, transfer } from 'transferkit';
import { fromLayersModel } from 'transferkit/tfjs';
import { err, ok } from '../../fixtures/either';
import { keepThenLose, mobileNetLike, toyData } from '../../fixtures/models';
import { expectNoLeakedTensors } from '../../fixtures/tensors';
import { deriveSeed, permutation, seededRandom } from '../../../src/core/random';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
expectNoLeakedTensors();

/** The preset with every block end below the top as a candidate (this model is three layers deep). */
const fromBottom = ok(makeRecipe({ ...earlierLayerTap, tap: { kind: 'ranked', from: 0 } }));

describe('a ranked tap', () => {
  it('taps the candidate whose activations carry the labels, and reports every candidate scored on the training examples', async () => {
    const model = keepThenLose({ top: true });
    const { x, y } = toyData([8], 60, 3);
    const held = toyData([8], 30, 3, 9);
    try {
      const backbone = ok(fromLayersModel(model));
      const result = ok(await transfer(backbone, fromBottom, { x, y }, { epochs: 2, seed: 1, validation: { data: { x: held.x, y: held.y } } })());
      result.model.dispose();
      expect(result.tap.name).toBe('keep');
      expect(result.tapRanking?.map((r) => r.layer.name)).toEqual(['keep', 'lose']);
      // The same scores rankLayers gives on the training examples: the validation set is not read.
      const ranked = ok(await rankLayers(backbone, { x, y }, { candidates: [{ kind: 'layer', name: 'keep' }, { kind: 'layer', name: 'lose' }] })());
      expect(result.tapRanking?.map((r) => r.logme)).toEqual(ranked.map((r) => r.logme));
    } finally {
      tf.dispose([x, held.x]);
      model.dispose();
    }
  });

  it('ranks on the training part of a split alone: the held-out labels change nothing', async () => {
    const model = keepThenLose({ top: true });
    const { x, y } = toyData([8], 60, 3);
    try {
      const backbone = ok(fromLayersModel(model));
      const scores = async (labels: number[]) => {
        const result = ok(await transfer(backbone, fromBottom, { x, y: labels }, { epochs: 1, seed: 1, validation: { split: 0.5 } })());
        result.model.dispose();
        return result.tapRanking!.map((r) => r.logme);
      };
      // The split's held-out rows, as plan.ts draws them for seed 1.
      const heldOut = new Set(permutation(60, seededRandom(deriveSeed(1, 1))).slice(30));
      const scrambled = y.map((c, i) => (heldOut.has(i) ? i % 3 : c));
      const trainOnly = y.map((c, i) => (heldOut.has(i) ? c : i % 3));
      expect(await scores(scrambled)).toEqual(await scores(y));
      expect(await scores(trainOnly)).not.toEqual(await scores(y));
    } finally {
      x.dispose();
      model.dispose();
    }
  });

  it('embeds several layers in one pass exactly as one at a time', async () => {
    const model = mobileNetLike();
    const { x } = toyData([8, 8, 3], 10, 3);
    try {
      const backbone = ok(fromLayersModel(model));
      const layers = backbone.layers.filter((l) => ['stem_relu', 'dw_relu', 'block_out', 'gap'].includes(l.name));
      const each = ok(await backbone.embedEach!(x, layers, { pooling: 'average', batchSize: 4 })());
      for (const [k, layer] of layers.entries()) {
        const one = ok(await backbone.embed(x, layer, { pooling: 'average', batchSize: 4 })());
        expect(each[k]).toEqual(one);
      }
      expect(err(await backbone.embedEach!(x, [], { pooling: 'average', batchSize: 4 })()).path).toBe('at');
    } finally {
      x.dispose();
      model.dispose();
    }
  });
});
