/**
 * A real pretrained GraphModel as a backbone: nsfwjs's `mobilenet_v2_mid` (MIT; TF Hub's
 * MobileNetV2 1.4 feature vector under a 5-class dense head, converted by tfjs-converter), loaded
 * from the package's files. Its top is found below the dense classifier, its embeddings are the
 * graph's own activations, and a feature extractor on it learns MNIST digits, on wasm with the
 * kernel pack, leaving the graph bit-identical.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { earlierLayerTap, embed, featureExtractor, partialFineTune, transfer } from 'transferkit';
import { setupBackend, type BackendChoice } from 'transferkit/tfjs';
import { fromGraphModel } from 'transferkit/tfjs/graph';
import { digitImages } from '../../../scripts/pretrained/model';
import { ok } from '../../fixtures/either';
import { loadMidGraph } from '../../../scripts/pretrained/graphModel';
import { expectNoLeakedTensors } from '../../fixtures/tensors';

let choice: BackendChoice | undefined;
let graph: GraphModel;
beforeAll(async () => {
  choice = ok(await setupBackend({ prefer: ['wasm'] })());
  graph = await loadMidGraph();
});
afterAll(() => {
  graph?.dispose();
  choice?.kernels?.unregister();
});
expectNoLeakedTensors();

/** Every weight's bytes, by name (compared as bytes: an element-wise deep equal of 4.4 M floats took 13 s). */
const weightsOf = (g: GraphModel): Map<string, string> => new Map(Object.entries(g.weights).map(([k, ts]) => [k, Buffer.from((ts[0]!.dataSync() as Float32Array).buffer).toString('base64')]));

describe('a real pretrained GraphModel (MobileNetV2 1.4 from nsfwjs)', () => {
  it('reads as 70 nodes with the pooled 1792 features below the dense classifier as its top', () => {
    const b = ok(fromGraphModel(graph));
    expect(b.layers).toHaveLength(70);
    expect(b.layers[0]!.kind).toBe('Placeholder');
    const top = b.layers[b.top]!;
    expect(top.kind).toBe('Squeeze');
    expect(top.outputShape).toEqual([null, 1792]);
    expect(b.layers.slice(b.top + 1).map((l) => l.kind)).toEqual(['_FusedMatMul', 'Softmax', 'Identity']);
  });

  it('embeds at the top what the graph computes there', async () => {
    const b = ok(fromGraphModel(graph));
    const { x } = digitImages([5, 6], 0, 2);
    try {
      const want = tf.tidy(() => (graph.execute(x, b.layers[b.top]!.name) as tf.Tensor).dataSync() as Float32Array);
      const got = ok(await embed(b, x, { kind: 'top' }, { batchSize: 3 })());
      expect(got.cols).toBe(1792);
      expect(Math.max(...got.data.map((v, i) => Math.abs(v - want[i]!)))).toBeLessThan(1e-5);
    } finally {
      x.dispose();
    }
  });

  it.each([
    ['feature extractor', featureExtractor],
    ['earlier-layer tap', earlierLayerTap],
  ] as const)('%s learns three digits from 12 images each (20+ of 30 held out right), the graph bit-identical afterwards', async (_, recipe) => {
    const b = ok(fromGraphModel(graph, { inputRange: [0, 1] }));
    const before = weightsOf(graph);
    const train = digitImages([5, 6, 7], 0, 12);
    const test = digitImages([5, 6, 7], 600, 10);
    try {
      const trained = ok(await transfer(b, recipe, { x: train.x, y: train.y }, { seed: 1 })());
      try {
        expect(trained.warnings.filter((w) => /range/.test(w))).toEqual([]);
        const probs = ok(await trained.model.predict(test.x)());
        let correct = 0;
        for (let r = 0; r < probs.rows; r++) {
          const row = Array.from(probs.data.slice(r * 3, r * 3 + 3));
          if (row.indexOf(Math.max(...row)) === test.y[r]) correct++;
        }
        // Chance is 10 of 30.
        expect(correct).toBeGreaterThanOrEqual(20);
      } finally {
        trained.model.dispose();
      }
      expect(weightsOf(graph)).toEqual(before);
    } finally {
      tf.dispose([train.x, test.x]);
    }
  });

  it('fine-tunes its top: every op has a gradient, the fine-tune phase moves the copy, and the graph stays bit-identical', async () => {
    const b = ok(fromGraphModel(graph, { inputRange: [0, 1] }));
    expect(b.capabilities.fineTune).toBe(true);
    const before = weightsOf(graph);
    const train = digitImages([5, 6, 7], 0, 4);
    try {
      // One step of the fine-tune phase (the head's own phase short too): 12 images at 224².
      const trained = ok(await transfer(b, partialFineTune, { x: train.x, y: train.y }, { seed: 1, batchSize: 12, phases: { head: { epochs: 5 }, 'fine-tune': { epochs: 1 } } })());
      try {
        const fineTune = trained.history[1]!;
        expect([fineTune.name, fineTune.steps]).toEqual(['fine-tune', 1]);
        const moved = [...ok(trained.model.weights())].filter(([name]) => name.startsWith('transferkit_graph_'));
        const graphValues = new Map(Object.entries(graph.weights).map(([k, ts]) => [k.replace(/\//g, '.'), ts[0]!.dataSync() as Float32Array]));
        const changed = moved.filter(([name, values]) => {
          const own = graphValues.get(name.slice(name.indexOf('/') + 1));
          return own !== undefined && values.some((v, i) => v !== own[i]);
        });
        // The top quarter of the segments trained; the rest kept the graph's values.
        expect(changed.length).toBeGreaterThan(0);
        expect(changed.length).toBeLessThan(moved.length);
      } finally {
        trained.model.dispose();
      }
      expect(weightsOf(graph)).toEqual(before);
    } finally {
      train.x.dispose();
    }
  });
});
