/**
 * Fine-tuning a GraphModel's top (src/backends/tfjs/graphModel/segments.ts): the graph's own ops on
 * a copy whose weights are variables, cut into segments where the graph narrows to one tensor. The
 * copy starts as the graph computes, its gradients are the ops' own, partial and full fine-tune
 * train it, the source graph stays bit-identical, and an op without a gradient is named.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-layers';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import { beforeAll, describe, expect, it } from 'vitest';
import { earlierLayerTap, evaluate, featureExtractor, fromScratch, fullFineTune, partialFineTune, transfer } from 'transferkit';
import { fromGraphModel } from 'transferkit/tfjs/graph';
import { segmentsTo } from '../../../src/backends/tfjs/graphModel/segments';
import { readGraph } from '../../../src/backends/tfjs/graphModel/nodes';
import { err, ok } from '../../fixtures/either';
import { expectNoLeakedTensors } from '../../fixtures/tensors';
import { addV2, biasAdd, conv2d, convClassifier, graphModel, matMul, mean, placeholder, unary, graphWeights as weightsOf, usingGraph as using } from '../../fixtures/tinyGraphs';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
expectNoLeakedTensors();

const unchanged = (g: GraphModel, before: Map<string, Float32Array>): boolean => [...weightsOf(g)].every(([k, v]) => v.every((x, i) => Object.is(x, before.get(k)![i])));

/** conv → ReLU, then a residual block (conv → ReLU, added back), a 1×1 conv, pooled, then a classifier. */
const residual = (extra?: { readonly op: string }): Promise<GraphModel> =>
  graphModel(
    [
      placeholder('input', [-1, 8, 8, 1]),
      conv2d('c1', 'input', 'w1'),
      biasAdd('c1b', 'c1', 'b1'),
      unary('r1', 'Relu', 'c1b'),
      conv2d('c2', 'r1', 'w2'),
      unary('r2', 'Relu6', 'c2'),
      addV2('sum', 'r1', 'r2'),
      ...(extra === undefined ? [conv2d('c3', 'sum', 'w3')] : [unary('odd', extra.op, 'sum'), conv2d('c3', 'odd', 'w3')]),
      mean('pooled', 'c3', 'axes'),
      matMul('logits_mm', 'pooled', 'dense_w'),
      unary('probs', 'Softmax', 'logits_mm'),
    ],
    [
      { name: 'w1', shape: [3, 3, 1, 4] },
      { name: 'b1', shape: [4] },
      { name: 'w2', shape: [3, 3, 4, 4] },
      { name: 'w3', shape: [1, 1, 4, 5] },
      { name: 'axes', shape: [2], dtype: 'int32', values: [1, 2] },
      { name: 'dense_w', shape: [5, 3] },
    ],
  );

/** Three classes by mean brightness, 48 images of 8×8. */
const data = (): { x: tf.Tensor4D; y: number[] } => {
  const x = tf.randomNormal([48, 8, 8, 1], 0, 1, 'float32', 5) as tf.Tensor4D;
  const means = tf.tidy(() => tf.mean(x, [1, 2, 3]).dataSync());
  return { x, y: Array.from(means, (v) => (v > 0.05 ? 2 : v < -0.05 ? 0 : 1)) };
};

describe("fine-tuning a GraphModel's top", () => {
  it('cuts where every path crosses one tensor: never inside the residual block, and each segment holds weights', () =>
    using(residual, (g) => {
      const graph = ok(readGraph(g, undefined));
      const top = graph.layers.findIndex((l) => l.name === 'pooled');
      const segments = segmentsTo(graph, top, g.weights);
      expect(segments.map((s) => [s.from, s.to, s.weights.map((w) => w.node.name)])).toEqual([
        // The bias goes with its convolution; the ReLU after it, holding no weights, with what follows.
        ['input', 'c1b', ['w1', 'b1']],
        ['c1b', 'sum', ['w2']],
        ['sum', 'pooled', ['w3']],
      ]);
    }));

  it('trains the copy with partial and full fine-tune; the source graph stays bit-identical and nothing leaks', () =>
    using(residual, async (g) => {
      const before = weightsOf(g);
      const b = ok(fromGraphModel(g));
      expect(b.capabilities.fineTune).toBe(true);
      const { x, y } = data();
      try {
        const head = ok(await transfer(b, featureExtractor, { x, y }, { seed: 1, epochs: 20 })());
        const headProbs = ok(await head.model.predict(x)());
        head.model.dispose();
        for (const recipe of [partialFineTune, fullFineTune]) {
          const trained = ok(await transfer(b, recipe, { x, y }, { seed: 1, epochs: 20 })());
          expect(trained.history.map((h) => h.trains.kind)).toEqual(['head-only', recipe === partialFineTune ? 'top-fraction' : 'all']);
          const probs = ok(await trained.model.predict(x)());
          // The fine-tune phase moved the graph's copy: predictions differ from the head-only model's.
          expect(probs.data.some((v, i) => Math.abs(v - headProbs.data[i]!) > 1e-4)).toBe(true);
          const scores = ok(await evaluate(trained.model, { x, y }, trained.classes)());
          expect(scores.accuracy).toBeGreaterThan(0.4);
          // A head saved alone would no longer match the graph it goes back on.
          expect(err(await trained.model.saveHead(tf.io.withSaveHandler(async () => ({ modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })))())._tag).toBe('NotSupported');
          trained.model.dispose();
        }
        expect(unchanged(g, before)).toBe(true);
        // From scratch still needs an architecture with fresh weights, which a graph does not give.
        expect(err(await transfer(b, fromScratch, { x, y }, { epochs: 1 })())._tag).toBe('NotSupported');
      } finally {
        x.dispose();
      }
    }));

  it('starts where the graph is: before any step, the copy computes what the graph computes', () =>
    using(convClassifier, async (g) => {
      const b = ok(fromGraphModel(g));
      const x = tf.randomUniform([5, 8, 8, 1], 0, 1, 'float32', 9);
      const model = ok(await b.build({ tap: b.layers[b.top]!, head: { hidden: [], dropout: 0 }, classes: 3, pooling: 'average', start: 'pretrained', seed: 1 })());
      try {
        const viaGraph = ok(await b.embed(x, b.layers[b.top]!, { pooling: 'average', batchSize: 5 })());
        // The segments' weights are the graph's own values, and run to the top they give the graph's embedding.
        const weights = ok(model.weights());
        const conv = [...weights].find(([name]) => name.includes('conv_w'))!;
        expect(Array.from(conv[1])).toEqual(Array.from(g.weights['conv_w']![0]!.dataSync()));
        // The copy's forward, then the head, is the graph's embedding, then the head.
        const kernel = [...weights].find(([name]) => name.startsWith('transferkit_head_output') && name.endsWith('kernel'))![1];
        const bias = [...weights].find(([name]) => name.startsWith('transferkit_head_output') && name.endsWith('bias'))![1];
        const expected = tf.tidy(() => tf.softmax(tf.add(tf.matMul(tf.tensor2d(viaGraph.data, [viaGraph.rows, viaGraph.cols]), tf.tensor2d(kernel, [viaGraph.cols, 3])), tf.tensor1d(bias))).dataSync());
        const probs = ok(await model.predict(x)());
        expect(Math.max(...probs.data.map((v, i) => Math.abs(v - expected[i]!)))).toBeLessThan(1e-6);
      } finally {
        model.dispose();
        x.dispose();
      }
    }));

  it('an op without a gradient in tfjs: fine-tune recipes get NotSupported naming it, head-only recipes still train', () =>
    using(() => residual({ op: 'Floor' }), async (g) => {
      const b = ok(fromGraphModel(g));
      expect(b.capabilities.fineTune).toBe(false);
      const { x, y } = data();
      try {
        const e = err(await transfer(b, partialFineTune, { x, y }, { epochs: 1 })());
        expect(e._tag).toBe('NotSupported');
        expect(e.message).toMatch(/node 'odd' \(op Floor\) has no gradient/);
        expect(e.message).toMatch(/head-only recipes \(featureExtractor, earlierLayerTap\)/);
        for (const recipe of [featureExtractor, earlierLayerTap]) ok(await transfer(b, recipe, { x, y }, { epochs: 2, seed: 1 })()).model.dispose();
      } finally {
        x.dispose();
      }
    }));
});
