/** measureSimilarity, rankLayers and rankBackbones on tfjs models whose right answers are known. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { classifyScenario, measureSimilarity, rankBackbones, rankLayers, selectStrategy, type TransferProblem } from 'transferkit';
import { fromLayersModel } from 'transferkit/tfjs';
import { err, ok } from '../../fixtures/either';
import { denseModel, keepThenLose, mobileNetLike, toyData } from '../../fixtures/models';
import { expectNoLeakedTensors } from '../../fixtures/tensors';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
expectNoLeakedTensors();

describe('measureSimilarity', () => {
  it('finds samples of one distribution similar and a shifted one different, with the MMD evidence to say so', async () => {
    const model = denseModel();
    const backbone = ok(fromLayersModel(model));
    const source = tf.randomNormal([80, 8], 0, 1, 'float32', 1);
    const same = tf.randomNormal([80, 8], 0, 1, 'float32', 2);
    const shifted = tf.randomNormal([80, 8], 2, 1, 'float32', 3);
    const alike = ok(await measureSimilarity(backbone, source, same, { seed: 1 })());
    const apart = ok(await measureSimilarity(backbone, source, shifted, { seed: 1 })());
    expect(alike.layer).toBe('d2');
    expect(alike.similarity).toBeGreaterThan(0.6);
    expect(apart.similarity).toBeLessThan(0.2);
    expect(alike.similarity).toBeCloseTo(1 - alike.proxyADistance / 2, 12);
    expect(apart.marginalShift).toMatchObject({ statistic: 'mmd2', alpha: 0.05 });
    expect(apart.marginalShift.pValue).toBeLessThan(0.05);
    expect(alike.marginalShift.pValue).toBeGreaterThan(0.05);

    // The measurement feeds the scenario classifier; the selector refuses it (issue #16: 1 − PAD/2
    // says a shift can be detected, not that the source stops helping).
    expect(err(selectStrategy({ size: 12, similarity: apart, classes: 3 }))).toMatchObject({ _tag: 'InvalidArgument', path: 'similarity' });
    const space = { id: 'toy-8', shape: [8], dtype: 'float32' } as const;
    const labels = { labelSpace: { kind: 'categorical', classes: ['a', 'b', 'c'] }, labelling: 'same-rule' } as const;
    const problem: TransferProblem = {
      source: { domain: { featureSpace: space, marginal: { kind: 'unobserved' } }, task: labels },
      target: { domain: { featureSpace: space, marginal: { kind: 'unobserved' } }, task: labels },
      labels: { source: true, target: true },
    };
    expect(ok(classifyScenario(problem, { marginal: apart.marginalShift })).scenario).toMatchObject({ kind: 'domain-adaptation', causes: ['marginal'] });
    expect(ok(classifyScenario(problem, { marginal: alike.marginalShift })).scenario.kind).toBe('ordinary-learning');
    tf.dispose([source, same, shifted]);
    model.dispose();
  });

  it('says which sample was wrong', async () => {
    const model = denseModel();
    const good = tf.zeros([4, 8]);
    const bad = tf.zeros([4, 5]);
    expect(err(await measureSimilarity(ok(fromLayersModel(model)), good, bad)()).path).toBe('target.x');
    expect(err(selectStrategy({ size: 10, similarity: { similarity: 2 } })).path).toBe('similarity.similarity');
    tf.dispose([good, bad]);
    model.dispose();
  });
});

describe('rankLayers and rankBackbones', () => {
  it('ranks the layer that keeps the label-bearing inputs above the one that drops them', async () => {
    const model = keepThenLose();
    const { x, y } = toyData([8], 90, 3);
    const ranked = ok(await rankLayers(ok(fromLayersModel(model)), { x, y }, { candidates: [{ kind: 'layer', name: 'lose' }, { kind: 'layer', name: 'keep' }] })());
    expect(ranked.map((r) => r.layer.name)).toEqual(['keep', 'lose']);
    expect(ranked[0]!.logme).toBeGreaterThan(ranked[1]!.logme);
    x.dispose();
    model.dispose();
  });

  it('by default scores every block end of a residual network', async () => {
    const model = mobileNetLike();
    const { x, y } = toyData([8, 8, 3], 24, 3);
    const ranked = ok(await rankLayers(ok(fromLayersModel(model)), { x, y })());
    // A conv, depthwise conv or add that feeds only a BatchNorm or activation is not a block end,
    // nor is the residual branch's last BatchNorm, which feeds only the Add.
    expect(ranked.map((r) => r.layer.name).sort()).toEqual(['block_out', 'dw_relu', 'gap', 'stem_relu']);
    x.dispose();
    model.dispose();
  });

  it('ranks the backbone whose top features carry the labels first', async () => {
    const keep = tfl.sequential({
      layers: [tfl.layers.dense({ inputShape: [8], units: 8, kernelInitializer: tfl.initializers.identity({}), name: 'features' }), tfl.layers.dense({ units: 2, activation: 'softmax' })],
    });
    const lose = keepThenLose();
    const { x, y } = toyData([8], 90, 3);
    const ranked = ok(
      await rankBackbones(
        [
          { name: 'drops inputs 0-3', backbone: ok(fromLayersModel(lose)), x },
          { name: 'keeps every input', backbone: ok(fromLayersModel(keep)), x },
        ],
        y,
      )(),
    );
    expect(ranked.map((r) => r.name)).toEqual(['keeps every input', 'drops inputs 0-3']);
    x.dispose();
    keep.dispose();
    lose.dispose();
  });
});
