/**
 * GraphModel backbones on small graphs built in the test (test/fixtures/tinyGraphs.ts): the nodes
 * as layers, the top below the classifier, embeddings that are the graph's own activations,
 * head-only transfer with the graph untouched, and a typed error for each graph or input it cannot
 * take.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import { beforeAll, describe, expect, it } from 'vitest';
import { earlierLayerTap, embed, featureExtractor, fromScratch, fullFineTune, partialFineTune, rankLayers, transfer } from 'transferkit';
import { attachHead } from 'transferkit/tfjs';
import { fromGraphModel } from 'transferkit/tfjs/graph';
import { err, ok } from '../../fixtures/either';
import { expectNoLeakedTensors } from '../../fixtures/tensors';
import { addV2, biasAdd, conv2d, convClassifier, graphModel, matMul, mean, perceptron, placeholder, unary, graphWeights as weightsOf, usingGraph as using } from '../../fixtures/tinyGraphs';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
expectNoLeakedTensors();

const images = (n: number, seed = 3): tf.Tensor4D => tf.randomUniform([n, 8, 8, 1], 0, 1, 'float32', seed);

describe('a GraphModel as a backbone', () => {
  it('lists its computing nodes in topological order, with ops, output shapes and weight counts; no constants', () =>
    using(convClassifier, (g) => {
      const b = ok(fromGraphModel(g));
      expect(b.layers.map((l) => l.kind)).toEqual(['Placeholder', 'Conv2D', 'BiasAdd', 'Relu', 'Mean', 'MatMul', 'BiasAdd', 'Softmax', 'Identity']);
      expect(b.layers.map((l) => l.outputShape)).toEqual([
        [null, 8, 8, 1],
        [null, 8, 8, 4],
        [null, 8, 8, 4],
        [null, 8, 8, 4],
        [null, 4],
        [null, 3],
        [null, 3],
        [null, 3],
        [null, 3],
      ]);
      // conv 3·3·1·4, its bias 4, the dense 4·3 and its bias 3; the mean's int32 axes are no weight.
      expect(b.layers.map((l) => l.params)).toEqual([0, 36, 4, 0, 0, 12, 3, 0, 0]);
      b.layers.forEach((l, i) => {
        expect(l.index).toBe(i);
        l.inputs.forEach((k) => expect(k).toBeLessThan(i));
      });
      // Every op up to the top has a gradient in tfjs: fine-tune recipes run (graphFineTune.test.ts).
      expect(b.capabilities.fineTune).toBe(true);
    }));

  it('finds the top below the classifier: the pooled features, or the hidden layer of a perceptron', async () => {
    await using(convClassifier, (g) => {
      const b = ok(fromGraphModel(g));
      expect(b.layers[b.top]!.name).toBe('pooled');
    });
    await using(perceptron, (g) => {
      const b = ok(fromGraphModel(g));
      expect(b.layers[b.top]!.name).toBe('hidden');
    });
  });

  it('takes an output of features (no classifier) as its own top, and a given top by name or index', async () => {
    const features = () =>
      graphModel(
        [placeholder('input', [-1, 8, 8, 1]), conv2d('conv', 'input', 'w'), unary('relu', 'Relu', 'conv'), mean('features', 'relu', 'axes')],
        [{ name: 'w', shape: [3, 3, 1, 5] }, { name: 'axes', shape: [2], dtype: 'int32', values: [1, 2] }],
      );
    await using(features, (g) => {
      const b = ok(fromGraphModel(g));
      expect(b.layers[b.top]!.name).toBe('features');
      expect(ok(fromGraphModel(g, { top: 'relu' })).top).toBe(2);
      expect(ok(fromGraphModel(g, { top: 1 })).top).toBe(1);
    });
  });

  it('embeds at any node: the graph’s own activations there, pooled, in batches, one pass for several', () =>
    using(convClassifier, async (g) => {
      const b = ok(fromGraphModel(g));
      const x = images(7);
      try {
        const [relu, pooled] = [b.layers[3]!, b.layers[4]!];
        const direct = tf.tidy(() => (g.execute(x, ['relu', 'pooled']) as tf.Tensor[]).map((t, k) => (k === 0 ? tf.mean(t, [1, 2]) : t.clone())));
        const want = direct.map((t) => t.dataSync() as Float32Array);
        tf.dispose(direct);
        const each = ok(await b.embedEach!(x, [relu, pooled], { pooling: 'average', batchSize: 3 })());
        expect(each.map((m) => [m.rows, m.cols])).toEqual([
          [7, 4],
          [7, 4],
        ]);
        expect(Array.from(each[0]!.data)).toEqual(Array.from(want[0]!));
        expect(Array.from(each[1]!.data)).toEqual(Array.from(want[1]!));
        const flat = ok(await embed(b, x, { kind: 'layer', name: 'relu' }, { pooling: 'flatten' })());
        expect([flat.rows, flat.cols]).toEqual([7, 8 * 8 * 4]);
        const top = ok(await embed(b, x)());
        expect(Array.from(top.data)).toEqual(Array.from(want[1]!));
      } finally {
        x.dispose();
      }
    }));

  it('trains head-only recipes with the graph untouched; predicts, saves its head, which loads back onto the graph and predicts the same', () =>
    using(convClassifier, async (g) => {
      const b = ok(fromGraphModel(g));
      const before = weightsOf(g);
      const x = images(24);
      const y = Array.from({ length: 24 }, (_, i) => i % 3);
      try {
        for (const recipe of [featureExtractor, earlierLayerTap]) {
          const trained = ok(await transfer(b, recipe, { x, y }, { epochs: 2, batchSize: 8, seed: 1 })());
          try {
            const probs = ok(await trained.model.predict(x)());
            expect([probs.rows, probs.cols]).toEqual([24, 3]);
            for (let r = 0; r < probs.rows; r++) expect(probs.data.slice(r * 3, r * 3 + 3).reduce((a, v) => a + v, 0)).toBeCloseTo(1, 5);
            let saved: tf.io.ModelArtifacts | undefined;
            ok(await trained.model.saveHead(tf.io.withSaveHandler(async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })))());
            const head = await tfl.loadLayersModel(tf.io.fromMemory(saved!));
            try {
              const again = ok(await ok(attachHead(b, head)).predict(x)());
              Array.from(again.data).forEach((v, i) => expect(v).toBeCloseTo(probs.data[i]!, 6));
            } finally {
              head.dispose();
            }
            expect(err(await trained.model.save(tf.io.withSaveHandler(async () => ({ modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })))())._tag).toBe('NotSupported');
          } finally {
            trained.model.dispose();
          }
        }
        expect(weightsOf(g)).toEqual(before);
        expect(ok(await rankLayers(b, { x, y })()).length).toBeGreaterThan(0);
      } finally {
        x.dispose();
      }
    }));

  it('gives the same head for the same seed', () =>
    using(convClassifier, async (g) => {
      const b = ok(fromGraphModel(g));
      const x = images(12);
      const y = Array.from({ length: 12 }, (_, i) => i % 3);
      try {
        const run = async (seed: number): Promise<Float32Array> => {
          const t = ok(await transfer(b, featureExtractor, { x, y }, { epochs: 2, batchSize: 4, seed })());
          try {
            return ok(await t.model.predict(x)()).data;
          } finally {
            t.model.dispose();
          }
        };
        const [a, again, other] = [await run(4), await run(4), await run(5)];
        expect(Array.from(again)).toEqual(Array.from(a));
        expect(Array.from(other)).not.toEqual(Array.from(a));
      } finally {
        x.dispose();
      }
    }));

  it('refuses training from scratch: a graph gives no architecture to rebuild with fresh weights', () =>
    using(convClassifier, async (g) => {
      const b = ok(fromGraphModel(g));
      const x = images(6);
      const y = [0, 1, 2, 0, 1, 2];
      try {
        const e = err(await transfer(b, fromScratch, { x, y }, { epochs: 1 })());
        expect(e._tag).toBe('NotSupported');
        expect(e.message).toMatch(/'pretrained'/);
        const built = err(await b.build({ tap: b.layers[b.top]!, head: { hidden: [], dropout: 0 }, classes: 3, pooling: 'average', start: 'random', seed: 1 })());
        expect(built._tag).toBe('NotSupported');
      } finally {
        x.dispose();
      }
    }));
});

describe('what a GraphModel backbone cannot take', () => {
  it('a value that is no GraphModel, bad options, an unknown top, a disposed graph', async () => {
    expect(err(fromGraphModel({} as never))._tag).toBe('InvalidArgument');
    expect(err(fromGraphModel(undefined as never))._tag).toBe('InvalidArgument');
    await using(convClassifier, (g) => {
      expect(err(fromGraphModel(g, { top: 'nowhere' })).message).toMatch(/pooled/);
      expect(err(fromGraphModel(g, { top: 0 })).path).toBe('options.top');
      expect(err(fromGraphModel(g, { top: {} as never })).path).toBe('options.top');
      expect(err(fromGraphModel(g, { inputRange: [1, 0] })).path).toBe('options.inputRange');
      expect(err(fromGraphModel(g, { inputShape: [8, 8] })).path).toBe('options.inputShape');
      expect(err(fromGraphModel(g, 'x' as never))._tag).toBe('InvalidArgument');
    });
    const g = await convClassifier();
    const b = ok(fromGraphModel(g));
    g.dispose();
    expect(err(fromGraphModel(g)).message).toMatch(/disposed/);
    const x = images(2);
    try {
      expect(err(await embed(b, x)()).message).toMatch(/disposed/);
    } finally {
      x.dispose();
    }
  });

  it('inputs of the wrong shape or with NaN, and a node that is the input or not in the graph', () =>
    using(convClassifier, async (g) => {
      const b = ok(fromGraphModel(g));
      const wrong = tf.zeros([2, 9, 8, 1]);
      const nan = tf.fill([2, 8, 8, 1], Number.NaN);
      const x = images(2);
      try {
        expect(err(await embed(b, wrong)())._tag).toBe('ShapeMismatch');
        expect(err(b.count(nan)).message).toMatch(/finite/);
        expect(err(await b.embed(x, b.layers[0]!, { pooling: 'average', batchSize: 2 })())._tag).toBe('InvalidArgument');
        expect(err(await b.embed(x, { ...b.layers[1]!, name: 'elsewhere' }, { pooling: 'average', batchSize: 2 })())._tag).toBe('InvalidArgument');
      } finally {
        tf.dispose([wrong, nan, x]);
      }
    }));

  it('a graph with two inputs or two outputs: NotSupported, naming them', async () => {
    const twoIn = () => graphModel([placeholder('a', [-1, 4]), placeholder('b', [-1, 4]), addV2('sum', 'a', 'b')], []);
    await using(twoIn, (g) => {
      const e = err(fromGraphModel(g));
      expect(e._tag).toBe('NotSupported');
      expect(e.message).toMatch(/2 inputs \(a, b\)/);
    });
    const twoOut = () => graphModel([placeholder('x', [-1, 4]), unary('r', 'Relu', 'x'), unary('s', 'Sigmoid', 'x')], []);
    await using(twoOut, (g) => {
      const e = err(fromGraphModel(g));
      expect(e._tag).toBe('NotSupported');
      expect(e.message).toMatch(/2 outputs/);
    });
  });

  it('an input of open size: NotSupported without inputShape, a backbone with it', async () => {
    await using(
      () => convClassifier({ inputShape: [-1, -1, -1, 1] }),
      async (g) => {
        expect(err(fromGraphModel(g)).message).toMatch(/inputShape/);
        expect(err(fromGraphModel(g, { inputShape: [8, 8, 3] })).path).toBe('options.inputShape');
        const b = ok(fromGraphModel(g, { inputShape: [6, 6, 1] }));
        expect(b.layers[1]!.outputShape).toEqual([null, 6, 6, 4]);
        const x = tf.zeros([2, 6, 6, 1]);
        try {
          expect(ok(await embed(b, x)()).cols).toBe(4);
        } finally {
          x.dispose();
        }
      },
    );
  });

  it('a graph ending in probabilities with no classifier below: asks for top and names candidates, never picks the probabilities', async () => {
    // A softmax over the channels of a 3×3 convolution's map (a segmentation-like output).
    const mapSoftmax = () =>
      graphModel(
        [placeholder('input', [-1, 8, 8, 1]), conv2d('conv', 'input', 'w'), unary('relu', 'Relu', 'conv'), conv2d('conv2', 'relu', 'w2'), unary('probs', 'Softmax', 'conv2')],
        [{ name: 'w', shape: [3, 3, 1, 4] }, { name: 'w2', shape: [3, 3, 4, 3] }],
      );
    await using(mapSoftmax, (g) => {
      const e = err(fromGraphModel(g));
      expect(e.path).toBe('options.top');
      expect(e.message).toMatch(/probabilities/);
      expect(ok(fromGraphModel(g, { top: 'relu' })).top).toBe(2);
    });
    const allClassifier = () => graphModel([placeholder('input', [-1, 4]), matMul('mm', 'input', 'w'), biasAdd('logits', 'mm', 'b'), unary('probs', 'Softmax', 'logits')], [{ name: 'w', shape: [4, 3] }, { name: 'b', shape: [3] }]);
    await using(allClassifier, (g) => {
      expect(err(fromGraphModel(g)).message).toMatch(/all classifier/);
    });
  });
});
