/** The committed MNIST source models: each loads from disk, still scores what it was saved with, and opens as a backbone. */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { either as E } from 'fp-ts';
import { fromLayersModel } from 'transferkit/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { SOURCE_DIGITS, SPLITS, take } from '../../scripts/mnist/data';
import { loadSourceModel, SOURCES, type SourceName } from '../../scripts/mnist/sourceModel';
import { ADAPT_SOURCE_DIR, loadAdaptSource } from '../../scripts/adapt/sourceModel';
import { RANGES, take as takeShifted } from '../../scripts/adapt/shifts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe.each(Object.keys(SOURCES) as SourceName[])('the committed %s source', (name) => {
  it('scores on held-out source digits what its training script recorded, and leaves nothing behind', async () => {
    const recorded = (JSON.parse(readFileSync(new URL('model.json', SOURCES[name].dir), 'utf8')) as { heldOutAccuracy: number }).heldOutAccuracy;
    const before = tf.memory().numTensors;
    const model = await loadSourceModel(name);
    // The training script's held-out images: [800, 980) of each digit 0–4.
    const test = take(SOURCE_DIGITS, SPLITS.source.trainEnd, SPLITS.source.testEnd - SPLITS.source.trainEnd);
    const predicted = tf.tidy(() => tf.argMax(model.predict(tf.tensor4d(test.x, [test.count, 28, 28, 1])) as tf.Tensor, 1).dataSync());
    const accuracy = predicted.filter((p, i) => p === test.y[i]).length / test.count;
    // Backends differ in float rounding; an image or two may flip, not more.
    expect(Math.abs(accuracy - recorded)).toBeLessThanOrEqual(2 / test.count);
    expect(accuracy).toBeGreaterThan(0.95);
    const backbone = fromLayersModel(model, SOURCES[name].top);
    expect(E.isRight(backbone) && backbone.right.layers[backbone.right.top]!.name).toBe(SOURCES[name].top.top);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 60_000);
});

describe('the MobileNet-style source', () => {
  it('has the structure of MobileNetV2: depthwise convolutions, ReLU6, residual adds, BatchNorm', async () => {
    const model = await loadSourceModel('mobilenet');
    const classes = model.layers.map((l) => l.getClassName());
    expect(classes.filter((c) => c === 'DepthwiseConv2D')).toHaveLength(6);
    expect(classes.filter((c) => c === 'Add')).toHaveLength(4);
    expect(classes.filter((c) => c === 'BatchNormalization')).toHaveLength(20);
    expect(classes.filter((c) => c === 'ReLU')).toHaveLength(14);
    model.dispose();
  });
});

describe('the committed ten-digit source of the adaptation benchmark', () => {
  it('scores on its held-out clean digits what its training script recorded, and has its classifier above its top', async () => {
    const recorded = (JSON.parse(readFileSync(new URL('model.json', ADAPT_SOURCE_DIR), 'utf8')) as { heldOutAccuracy: number }).heldOutAccuracy;
    const before = tf.memory().numTensors;
    const model = await loadAdaptSource();
    const test = takeShifted(RANGES.sourceTest);
    const predicted = tf.tidy(() => tf.argMax(model.predict(tf.tensor4d(test.x, [test.count, 28, 28, 1])) as tf.Tensor, 1).dataSync());
    const accuracy = predicted.filter((p, i) => p === test.y[i]).length / test.count;
    expect(Math.abs(accuracy - recorded)).toBeLessThanOrEqual(2 / test.count);
    expect(accuracy).toBeGreaterThan(0.9);
    const backbone = fromLayersModel(model, { top: 'features' });
    expect(E.isRight(backbone) && backbone.right.layers.at(-1)!.name).toBe('classifier');
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 60_000);
});

