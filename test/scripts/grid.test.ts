/**
 * The calibration grid's data (scripts/grid/): its three committed sources load and score what
 * their training scripts recorded on held-out images of their own label sets; its target domains
 * draw balanced, disjoint training and test sets from digits no source saw, the same for the same
 * seed.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { either as E } from 'fp-ts';
import { fromLayersModel } from 'transferkit/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { GRID_DOMAINS, testSet, trainingSet } from '../../scripts/grid/domains';
import { GRID_SOURCE_NAMES, GRID_SOURCES, loadGridSource, sourceSplits } from '../../scripts/grid/sources';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe.each(GRID_SOURCE_NAMES)('the grid source %s', (name) => {
  it('scores on its held-out images what its training script recorded, opens at its top, and leaves nothing behind', async () => {
    const spec = GRID_SOURCES[name];
    const recorded = (JSON.parse(readFileSync(new URL('model.json', spec.dir), 'utf8')) as { heldOutAccuracy: number }).heldOutAccuracy;
    const before = tf.memory().numTensors;
    const model = await loadGridSource(name);
    const { test } = sourceSplits(name);
    const predicted = tf.tidy(() => tf.argMax(model.predict(tf.tensor4d(test.x, [test.count, 28, 28, 1])) as tf.Tensor, 1).dataSync());
    const accuracy = predicted.filter((p, i) => p === test.y[i]).length / test.count;
    expect(Math.abs(accuracy - recorded)).toBeLessThanOrEqual(2 / test.count);
    expect(accuracy).toBeGreaterThan(0.95);
    expect(model.outputs[0]!.shape.at(-1)).toBe(spec.classes);
    const backbone = fromLayersModel(model, spec.top);
    expect(E.isRight(backbone) && backbone.right.layers[backbone.right.top]!.name).toBe(spec.top.top);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);
});

describe('the grid domains', () => {
  it('are eight, over digits 5–9 only, covering task, pixel, geometric and combined shifts', () => {
    expect(GRID_DOMAINS).toHaveLength(8);
    for (const d of GRID_DOMAINS) for (const digit of d.classes.flat()) expect(digit).toBeGreaterThanOrEqual(5);
    expect(new Set(GRID_DOMAINS.map((d) => d.kind))).toEqual(new Set(['task', 'pixel', 'geometric', 'task+covariate']));
  });

  it.each(GRID_DOMAINS.map((d) => [d.name, d] as const))('%s: balanced classes, the same images for the same seed, other images for another', (_, domain) => {
    for (const perClass of [5, 20]) {
      const a = trainingSet(domain, perClass, 0);
      expect(a.count).toBe(perClass * domain.classes.length);
      for (let c = 0; c < domain.classes.length; c++) expect(a.y.filter((y) => y === c)).toHaveLength(perClass);
      expect(a.x.every((v) => Number.isFinite(v) && v >= 0 && v <= 1)).toBe(true);
      expect(trainingSet(domain, perClass, 0).x).toEqual(a.x);
      expect(trainingSet(domain, perClass, 1).x).not.toEqual(a.x);
    }
    const test = testSet(domain);
    expect(test.count).toBe(100 * domain.classes.flat().length);
  });
});
