import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { fromLayersModel, imageBatch } from 'transferkit/tfjs';
import { fromGraphModel } from 'transferkit/tfjs/graph';
import { inputSpecFor } from '../../../src/core/inputSpec';
import { err, ok } from '../../fixtures/either';
import { perceptron } from '../../fixtures/tinyGraphs';

/** RGBA pixels whose red, green and blue are r, g, b everywhere (an ImageData, say). */
const solid = (width: number, height: number, [r, g, b]: readonly [number, number, number]) => ({
  width,
  height,
  data: Uint8ClampedArray.from({ length: width * height * 4 }, (_, i) => [r, g, b, 255][i % 4]!),
});

const spec = (args: object, shape: ReadonlyArray<number | null> = [null, 4, 4, 3]) => ok(inputSpecFor(shape, args));

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('imageBatch', () => {
  it('maps pixels onto the spec’s range, channel by channel, dropping alpha', () => {
    const before = tf.memory().numTensors;
    const x = ok(imageBatch(spec({ range: [-1, 1] }), [solid(4, 4, [0, 255, 51]), solid(4, 4, [255, 0, 0])]));
    expect(x.shape).toEqual([2, 4, 4, 3]);
    const v = x.dataSync();
    expect([v[0], v[1], v[2]]).toEqual([-1, 1, expect.closeTo(-0.6, 6)]);
    expect([v[48], v[49], v[50]]).toEqual([1, -1, -1]);
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('standardises by mean and std, and puts channels in BGR order when asked', () => {
    const mean = [0.485, 0.456, 0.406];
    const std = [0.229, 0.224, 0.225];
    const x = ok(imageBatch(spec({ mean, std, channelOrder: 'bgr' }), [solid(4, 4, [10, 20, 30])]));
    const v = x.dataSync();
    // Channel 0 holds blue (30), standardised by the spec's first mean and std (the model's own order).
    expect(v[0]).toBeCloseTo((30 / 255 - mean[0]!) / std[0]!, 5);
    expect(v[2]).toBeCloseTo((10 / 255 - mean[2]!) / std[2]!, 5);
    x.dispose();
  });

  it('resizes and converts grey and colour only when asked, else says what the spec needs', () => {
    const before = tf.memory().numTensors;
    const big = solid(9, 7, [100, 100, 100]);
    const size = err(imageBatch(spec({ range: [0, 1] }), [solid(4, 4, [0, 0, 0]), big]));
    expect(size._tag).toBe('ShapeMismatch');
    expect(size.path).toBe('images[1]');
    expect(size.received).toBe('9×7');
    const grey = { width: 4, height: 4, data: new Uint8Array(16).fill(51), channels: 1 as const };
    const channels = err(imageBatch(spec({ range: [0, 1] }), [grey]));
    expect(channels._tag).toBe('ShapeMismatch');
    expect(channels.received).toBe('1 channel');
    expect(tf.memory().numTensors).toBe(before);

    const resized = ok(imageBatch(spec({ range: [0, 1] }), [big, grey], { resize: true }));
    expect(resized.shape).toEqual([2, 4, 4, 3]);
    // A constant image stays constant through a bilinear resize; grey repeats in every channel.
    expect(Array.from(resized.dataSync()).every((v, i) => Math.abs(v - (i < 48 ? 100 / 255 : 0.2)) < 1e-6)).toBe(true);
    resized.dispose();
    const toGrey = ok(imageBatch(spec({ range: [0, 1] }, [null, 4, 4, 1]), [solid(4, 4, [255, 0, 0])], { resize: true }));
    expect(toGrey.dataSync()[0]).toBeCloseTo(0.299, 6);
    toGrey.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('reads the spec off a backbone, and asks for one where the backbone has none', () => {
    const model = tfl.sequential({ layers: [tfl.layers.globalAveragePooling2d({ inputShape: [4, 4, 3] }), tfl.layers.dense({ units: 2, activation: 'softmax' })] });
    const declared = ok(fromLayersModel(model, { input: { range: [0, 1] } }));
    expect(declared.inputSpec).toEqual({ height: 4, width: 4, channels: 3, channelOrder: 'rgb', normalization: { range: [0, 1] } });
    // inputRange alone on an image model is a spec too.
    expect(ok(fromLayersModel(model, { inputRange: [-1, 1] })).inputSpec?.normalization).toEqual({ range: [-1, 1] });
    const bare = ok(fromLayersModel(model));
    expect(bare.inputSpec).toBeUndefined();
    expect(err(imageBatch(bare, [solid(4, 4, [0, 0, 0])])).expected).toMatch(/declare it, e\.g\. fromLayersModel\(model, \{ input/);
    // An input spec that disagrees with the model.
    const bad = err(fromLayersModel(model, { input: { size: [8, 8], range: [0, 1] } }));
    expect(bad._tag).toBe('ShapeMismatch');
    expect(bad.path).toBe('options.input.size');
    model.dispose();
  });

  it('gives a GraphModel backbone its spec too, and refuses one that is no image model', async () => {
    const graph = await perceptron(8);
    try {
      const e = err(fromGraphModel(graph, { input: { range: [0, 1] } }));
      expect(e.path).toBe('options.input');
      expect(e.expected).toMatch(/image batch/);
      expect(ok(fromGraphModel(graph, { inputRange: [0, 1] })).inputSpec).toBeUndefined();
    } finally {
      graph.dispose();
    }
  });

  it('refuses what is no image, naming the image kinds it takes', () => {
    const s = spec({ range: [0, 1] });
    expect(err(imageBatch(s, [])).path).toBe('images');
    expect(err(imageBatch(s, [{ width: 4, height: 4, data: new Float32Array(64) } as never])).path).toBe('images[0].data');
    expect(err(imageBatch(s, [{ width: 4, height: 4, data: new Uint8Array(50) }])).path).toBe('images[0].channels');
    expect(err(imageBatch(s, [{ width: 4, height: 4, data: new Uint8Array(48), channels: 4 }]))._tag).toBe('ShapeMismatch');
    expect(err(imageBatch(s, ['cat.png' as never])).expected).toMatch(/ImageData.*HTMLImageElement/);
  });
});
