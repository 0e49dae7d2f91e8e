/**
 * The hardening issue's repros on the tfjs backend, each as a test (cpu): batch sizes that hung
 * or leaked tfjs text, an abort while the frozen part is cached, seeded noise layers, NaN in the
 * source's weights, divergence on the last step, models the backbone cannot take, and inputs and
 * options a JavaScript caller may pass. Every test checks the tensor count.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import type { either as E } from 'fp-ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { embed, featureExtractor, fromScratch, fullFineTune, makeRecipe, measureSimilarity, rankBackbones, rankLayers, transfer, type Recipe, type TransferError } from 'transferkit';
import { fromLayersModel, type TfjsBackbone } from 'transferkit/tfjs';
import { Counting } from '../../fixtures/countingLayer';
import { err, ok } from '../../fixtures/either';
import { denseModel, snapshot, toyData } from '../../fixtures/models';
import { expectNoLeakedTensors } from '../../fixtures/tensors';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
expectNoLeakedTensors();

/** Runs `body` on a backbone of `make()` with 24 labelled examples, then frees everything. */
const withBackbone = async (make: () => tfl.LayersModel, body: (b: TfjsBackbone, x: tf.Tensor, y: number[], model: tfl.LayersModel) => Promise<void>, n = 24): Promise<void> => {
  const model = make();
  const { x, y } = toyData([8], n, 3);
  try {
    await body(ok(fromLayersModel(model)), x, y, model);
  } finally {
    x.dispose();
    model.dispose();
  }
};

/** `denseModel`'s layers with `extra` after the first dense layer. */
const withLayers = (extra: () => tfl.layers.Layer[]) => (): tfl.LayersModel =>
  tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [8], units: 16, activation: 'relu', name: 'd1', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }),
      ...extra(),
      tfl.layers.dense({ units: 12, activation: 'relu', name: 'd2', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }),
      tfl.layers.dense({ units: 3, activation: 'softmax', name: 'classifier', kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }),
    ],
  });

describe('batch sizes', () => {
  it.each([0, 0.5, Number.NaN, -1, Infinity, '8'])('%s is an InvalidArgument everywhere a backbone is embedded, not a hang or tfjs text', (batchSize) =>
    withBackbone(denseModel, async (b, x, y) => {
      const options = { batchSize: batchSize as number };
      const results: Array<E.Either<TransferError, unknown>> = [
        await rankLayers(b, { x, y }, options)(),
        await measureSimilarity(b, x, x, options)(),
        await rankBackbones([{ name: 'a', backbone: b, x }], y, options)(),
        await embed(b, x, { kind: 'top' }, options)(),
        await b.embed(x, b.layers[b.top]!, { pooling: 'average', batchSize: batchSize as number })(),
        await transfer(b, featureExtractor, { x, y }, { ...options, epochs: 1 })(),
      ];
      for (const result of results) {
        expect(err(result)).toMatchObject({ _tag: 'InvalidArgument', path: 'options.batchSize' });
      }
    }),
  );
});

describe('abort', () => {
  it('stops caching the frozen part at the next batch: none runs after the signal', async () => {
    const controller = new AbortController();
    let atAbort = 0;
    Counting.calls = 0;
    Counting.at = 2;
    // The abort comes from a timer, as it would from a UI, while the second batch is cached.
    Counting.then = () =>
      setTimeout(() => {
        atAbort = Counting.calls;
        controller.abort();
      }, 0);
    try {
      await withBackbone(
        withLayers(() => [new Counting({ name: 'counting' })]),
        async (b, x, y) => {
          const e = err(await transfer(b, featureExtractor, { x, y }, { batchSize: 8, signal: controller.signal })());
          // Every batch is one call of the layer: none ran after the signal.
          expect(atAbort).toBeGreaterThanOrEqual(2);
          expect(Counting.calls).toBe(atAbort);
          expect(e).toMatchObject({ _tag: 'Aborted', where: `phase head, caching the frozen part, batch ${atAbort + 1} of 50` });
        },
        400,
      );
    } finally {
      Counting.at = -1;
    }
  });

  it('stops embedding at the next batch, and an already-aborted signal stops it before the first', async () => {
    await withBackbone(denseModel, async (b, x, y) => {
      const controller = new AbortController();
      controller.abort();
      expect(err(await embed(b, x, { kind: 'top' }, { signal: controller.signal, batchSize: 4 })())).toMatchObject({ _tag: 'Aborted' });
      expect(err(await rankLayers(b, { x, y }, { signal: controller.signal })())._tag).toBe('Aborted');
      expect(err(await embed(b, x, { kind: 'top' }, { signal: 'no' as never })())).toMatchObject({ path: 'options.signal' });
    });
  });
});

describe('seeds', () => {
  const noise = {
    dropout: () => tfl.layers.dropout({ rate: 0.3 }),
    gaussianNoise: () => tfl.layers.gaussianNoise({ stddev: 0.3 }),
    gaussianDropout: () => tfl.layers.gaussianDropout({ rate: 0.3 }),
    alphaDropout: () => tfl.layers.alphaDropout({ rate: 0.3 }),
  };
  it.each(Object.keys(noise) as Array<keyof typeof noise>)('from scratch with %s: the same seed gives the same weights, another seed others', async (kind) => {
    const run = async (seed: number): Promise<ReadonlyMap<string, Float32Array>> => {
      let weights: ReadonlyMap<string, Float32Array> = new Map();
      await withBackbone(withLayers(() => [noise[kind]()]), async (b, x, y) => {
        const result = ok(await transfer(b, fromScratch, { x, y }, { epochs: 2, batchSize: 8, seed })());
        weights = ok(result.model.weights());
        result.model.dispose();
      });
      return weights;
    };
    const [a, again, other] = [await run(3), await run(3), await run(4)];
    expect([...again]).toEqual([...a]);
    expect([...other]).not.toEqual([...a]);
  });
});

describe('the source model', () => {
  const poison = (model: tfl.LayersModel): void => {
    const [kernel, bias] = model.getLayer('d1').getWeights();
    const values = kernel!.dataSync().slice();
    values[5] = Number.NaN;
    const poisoned = tf.tensor(values, kernel!.shape);
    model.getLayer('d1').setWeights([poisoned, bias!]);
    poisoned.dispose();
  };

  it('with a NaN weight is refused when wrapped, naming the weight', () => {
    const model = denseModel();
    poison(model);
    try {
      expect(err(fromLayersModel(model))).toMatchObject({ _tag: 'InvalidArgument', path: 'model', received: 'the weight d1/kernel, which holds NaN or Infinity' });
    } finally {
      model.dispose();
    }
  });

  it('given a NaN weight after it was wrapped is refused by transfer, and a random start does not read it', () =>
    withBackbone(denseModel, async (b, x, y, model) => {
      poison(model);
      expect(err(await transfer(b, featureExtractor, { x, y }, { epochs: 1 })())).toMatchObject({ _tag: 'InvalidArgument', received: 'the weight d1/kernel, which holds NaN or Infinity' });
      const scratch = ok(await transfer(b, fromScratch, { x, y }, { epochs: 1 })());
      scratch.model.dispose();
    }));

  it.each([
    ['a shared layer', () => {
      const input = tfl.input({ shape: [8] });
      const shared = tfl.layers.dense({ units: 8, name: 'shared' });
      const features = tfl.layers.dense({ units: 6, name: 'features' }).apply(shared.apply(shared.apply(input))) as tfl.SymbolicTensor;
      return { model: tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 2, activation: 'softmax' }).apply(features) as tfl.SymbolicTensor }), free: () => shared.weights.forEach((w) => w.read().dispose()) };
    }, "the layer 'shared', called 2 times (a shared layer)"],
    ['a nested model', () => {
      const inner = tfl.sequential({ name: 'inner', layers: [tfl.layers.dense({ inputShape: [8], units: 6 })] });
      const input = tfl.input({ shape: [8] });
      return { model: tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 2, activation: 'softmax' }).apply(inner.apply(input)) as tfl.SymbolicTensor }), free: () => inner.dispose() };
    }, "a model nesting the model 'inner' as a layer"],
  ])('with %s is NotSupported up front', (_, make, received) => {
    const before = tf.memory().numTensors;
    const { model, free } = make();
    try {
      expect(err(fromLayersModel(model))).toMatchObject({ _tag: 'NotSupported', path: 'model', received });
    } finally {
      model.dispose();
      // tfjs does not free a layer used twice (or a model used as a layer) with the outer model.
      try {
        free();
      } catch {
        // already freed with the model
      }
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is bit-identical after every failed call', () =>
    withBackbone(denseModel, async (b, x, y, model) => {
      const before = snapshot(model);
      for (const options of [{ batchSize: 0 }, { epochs: -1 }, { validation: { split: 2 } }, { classes: 1 }, { validation: null }, null]) {
        expect(err(await transfer(b, fullFineTune, { x, y }, options as never)())._tag).toBe('InvalidArgument');
      }
      expect(snapshot(model)).toEqual(before);
    }));
});

describe('training', () => {
  it('that diverges on its last step ends on its best weights (or, with the guard off, is a Left), never a model that predicts NaN', () =>
    withBackbone(denseModel, async (b, x0, y) => {
      const x = tf.mul(x0, 100);
      try {
        // One SGD step at 1e38: the loss before it is finite, the model after it is not.
        const recipe: Recipe = ok(makeRecipe({ tap: { kind: 'top' }, phases: [{ name: 'all', trains: { kind: 'all' }, epochs: 1, learningRate: 1e38, optimizer: 'sgd', regularization: { l2: 0 } }] }));
        const result = ok(await transfer(b, recipe, { x, y }, { batchSize: 24 })());
        try {
          expect(result.history[0]).toMatchObject({ weights: 'best', stop: 'epochs' });
          expect(ok(await result.model.predict(x)()).data.every(Number.isFinite)).toBe(true);
        } finally {
          result.model.dispose();
        }
        expect(err(await transfer(b, recipe, { x, y }, { batchSize: 24, divergenceGuard: false })())).toMatchObject({
          _tag: 'BackendFailure',
          cause: 'the loss after the last step is not finite (training diverged: try a lower learning rate)',
        });
      } finally {
        x.dispose();
      }
    }));

  it('takes labels as any typed array of class ids, and says what labels are when they are not', () =>
    withBackbone(denseModel, async (b, x, y) => {
      const result = ok(await transfer(b, featureExtractor, { x, y: Float32Array.from(y) }, { epochs: 1 })());
      result.model.dispose();
      expect(err(await transfer(b, featureExtractor, { x, y: null as never }, { epochs: 1 })())).toMatchObject({ path: 'labels' });
      expect(err(await transfer(b, featureExtractor, null as never)())).toMatchObject({ path: 'data' });
      expect(err(await transfer(null as never, featureExtractor, { x, y })())).toMatchObject({ path: 'backbone' });
      expect(err(await transfer(b, null as never, { x, y })())).toMatchObject({ path: 'recipe' });
      expect(err(await transfer(b, featureExtractor, { x, y }, { onProgress: 5 as never })())).toMatchObject({ path: 'options.onProgress' });
      expect(err(await transfer(b, featureExtractor, { x, y }, { epochs: 1, onProgress: () => { throw new Error('mine'); } })())).toMatchObject({ path: 'options.onProgress' });
    }));

  it('an activation store factory that returns no store is a Left, and leaks nothing', () =>
    withBackbone(denseModel, async (b, x, y) => {
      const e = err(await transfer(b, featureExtractor, { x, y }, { epochs: 1, activationStore: (() => 5) as never })());
      expect(e).toMatchObject({ _tag: 'BackendFailure', cause: 'the activation store factory returned something other than a row store (append, gather, dispose)' });
    }));
});

describe('the trained model', () => {
  it('says it is disposed, where it used to throw', () =>
    withBackbone(denseModel, async (b, x, y) => {
      const result = ok(await transfer(b, featureExtractor, { x, y }, { epochs: 1 })());
      expect(ok(result.model.weights()).size).toBeGreaterThan(0);
      expect(err(await result.model.predict(x, { batchSize: 0 })())).toMatchObject({ path: 'options.batchSize' });
      expect(err(await result.model.save(null as never)())).toMatchObject({ path: 'handlerOrUrl' });
      result.model.dispose();
      expect(err(result.model.weights())).toMatchObject({ _tag: 'InvalidArgument', received: 'a disposed transfer model' });
      expect(err(await result.model.predict(x)())).toMatchObject({ received: 'a disposed transfer model' });
    }));

  it('fromLayersModel takes no options, undefined, or an options object; nothing else', () => {
    const model = denseModel();
    try {
      expect(ok(fromLayersModel(model, undefined)).top).toBe(2);
      expect(err(fromLayersModel(model, null as never))).toMatchObject({ path: 'options' });
      expect(err(fromLayersModel(model, { top: {} as never }))).toMatchObject({ path: 'options.top' });
      expect(err(fromLayersModel(null as never))).toMatchObject({ path: 'model' });
    } finally {
      model.dispose();
    }
  });
});

describe('the metrics on a backbone', () => {
  it('rankLayers scores a dead ReLU layer with a finite LogME, below a live one', async () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.dense({ inputShape: [8], units: 6, activation: 'relu', name: 'dead', kernelInitializer: 'zeros', biasInitializer: tfl.initializers.constant({ value: -1 }) }),
        tfl.layers.dense({ units: 5, activation: 'relu', name: 'alive', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }), biasInitializer: 'ones' }),
        tfl.layers.dense({ units: 3, activation: 'softmax' }),
      ],
    });
    const { x, y } = toyData([8], 30, 3);
    try {
      const ranked = ok(await rankLayers(ok(fromLayersModel(model)), { x, y }, { candidates: [{ kind: 'layer', name: 'dead' }, { kind: 'layer', name: 'alive' }] })());
      expect(ranked.every((r) => Number.isFinite(r.logme))).toBe(true);
      expect(ranked.map((r) => r.layer.name)).toEqual(['alive', 'dead']);
    } finally {
      x.dispose();
      model.dispose();
    }
  });

  it('measureSimilarity checks every option before it embeds anything', () =>
    withBackbone(denseModel, async (b, x) => {
      for (const [options, path] of [
        [{ alpha: 5 }, 'options.alpha'],
        [{ alpha: 0 }, 'options.alpha'],
        [{ permutations: -1 }, 'options.permutations'],
        [{ seed: 0.5 }, 'options.seed'],
        [{ pooling: 'max' }, 'options.pooling'],
        [null, 'options'],
      ] as const) {
        expect(err(await measureSimilarity(b, x, x, options as never)())).toMatchObject({ _tag: 'InvalidArgument', path });
      }
      expect(err(await rankLayers(b, { x, y: [0] }, {})())._tag).toBe('InvalidArgument');
      expect(err(await rankLayers(b, null as never)())).toMatchObject({ path: 'data' });
      expect(err(await rankBackbones([null as never], [0, 1])())).toMatchObject({ path: 'candidates[0]' });
    }));
});
