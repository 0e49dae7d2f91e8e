/**
 * Embedding in worker threads: the same rows, in the same order, as `fromLayersModel`'s embed on
 * the caller's thread; the source untouched; no tensor left on the caller's thread; typed errors.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { either as E } from 'fp-ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fineTunePhase, fromScratch, headPhase, makeRecipe, memoryRowStore, partialFineTune, transfer } from 'transferkit';
import { fromLayersModel, type TfjsBackbone } from 'transferkit/tfjs';
import * as tfl from '@tensorflow/tfjs-layers';
import { availableParallelism } from 'node:os';
import { embed, featureExtractor, rankLayers } from 'transferkit';
import { maxThreads, withThreads, type ThreadedBackbone } from 'transferkit/tfjs/threads';
import { Doubling } from '../../fixtures/customLayer';
import { err, ok } from '../../fixtures/either';
import { denseModel, mobileNetLike, snapshot, toyData } from '../../fixtures/models';
import { expectClose, expectNoLeakedTensors } from '../../fixtures/tensors';

const conv = mobileNetLike(3);
const dense = denseModel(4);
let threaded: ThreadedBackbone;
let local: TfjsBackbone;

beforeAll(async () => {
  await tf.setBackend('cpu');
  threaded = ok(await withThreads(conv, { threads: 2 })());
  local = ok(fromLayersModel(conv));
});

afterAll(async () => {
  await threaded?.close();
  conv.dispose();
  dense.dispose();
});

describe('withThreads', () => {
  expectNoLeakedTensors();

  it.each([
    ['gap', 7, 3],
    ['block_out', 5, 2],
    ['dw_relu', 1, 4],
  ])('embeds at %s the rows the caller’s thread would, in order (%i rows, batches of %i)', async (layer, rows, batchSize) => {
    const at = local.layers.find((l) => l.name === layer)!;
    const x = tf.randomNormal([rows, 8, 8, 3], 0, 1, 'float32', rows);
    const expected = ok(await local.embed(x, at, { pooling: 'average', batchSize })());
    const actual = ok(await threaded.embed(x, at, { pooling: 'average', batchSize })());
    x.dispose();
    expect([actual.rows, actual.cols]).toEqual([expected.rows, expected.cols]);
    // Same backend, same compiled path, same batches within each thread's share: the same floats.
    expect(actual.data).toEqual(expected.data);
  });

  it('flattens too, and keeps the layer list and top of fromLayersModel', async () => {
    expect(threaded.threads).toBe(2);
    expect(threaded.layers).toEqual(local.layers);
    expect(threaded.top).toBe(local.top);
    const at = local.layers.find((l) => l.name === 'block_out')!;
    const x = tf.randomNormal([4, 8, 8, 3], 0, 1, 'float32', 9);
    const expected = ok(await local.embed(x, at, { pooling: 'flatten', batchSize: 4 })());
    const actual = ok(await threaded.embed(x, at, { pooling: 'flatten', batchSize: 4 })());
    x.dispose();
    expect(actual.data).toEqual(expected.data);
  });

  it('leaves the source model as it was, BatchNorm statistics included', async () => {
    const before = snapshot(dense);
    const backbone = ok(await withThreads(dense, { threads: 1 })());
    const x = tf.randomNormal([6, 8], 0, 1, 'float32', 2);
    ok(await backbone.embed(x, backbone.layers[backbone.top]!, { pooling: 'average', batchSize: 4 })());
    x.dispose();
    await backbone.close();
    expect(snapshot(dense)).toEqual(before);
  });

  it('checks its inputs as fromLayersModel does, and gives a typed error once closed', async () => {
    const at = local.layers[local.top]!;
    const wrong = tf.zeros([2, 5, 5, 3]);
    expect(err(await threaded.embed(wrong, at, { pooling: 'average', batchSize: 2 })())._tag).toBe('ShapeMismatch');
    wrong.dispose();
    const backbone = ok(await withThreads(dense, { threads: 1 })());
    await backbone.close();
    await backbone.close(); // twice is fine
    const x = tf.zeros([2, 8]);
    expect(err(await backbone.embed(x, backbone.layers[backbone.top]!, { pooling: 'average', batchSize: 2 })())._tag).toBe('InvalidArgument');
    x.dispose();
    expect(err(await backbone.tensorsInThreads()())).toMatchObject({ _tag: 'InvalidArgument', received: 'one whose threads were closed' });
  });

  it('refuses a batch size that would never finish, in the workers as on this thread', async () => {
    const x = tf.zeros([4, 8, 8, 3]);
    for (const batchSize of [0, 0.5, Number.NaN]) {
      expect(err(await threaded.embed(x, local.layers[local.top]!, { pooling: 'average', batchSize })())).toMatchObject({ path: 'options.batchSize' });
      expect(err(await rankLayers(threaded, { x, y: [0, 1, 0, 1] }, { batchSize })())).toMatchObject({ path: 'options.batchSize' });
    }
    x.dispose();
  });

  it('stops embedding at the next batch once the signal fires', async () => {
    const x = tf.zeros([8, 8, 8, 3]);
    const controller = new AbortController();
    controller.abort();
    expect(err(await embed(threaded, x, { kind: 'top' }, { batchSize: 2, signal: controller.signal })())._tag).toBe('Aborted');
    x.dispose();
  });

  it('rejects a layer the model does not have', async () => {
    const x = tf.zeros([2, 8, 8, 3]);
    const at = { ...local.layers[local.top]!, name: 'nope' };
    expect(err(await threaded.embed(x, at, { pooling: 'average', batchSize: 2 })())._tag).toBe('InvalidArgument');
    x.dispose();
  });

  it.each([0, 1.5, -1, Number.NaN, availableParallelism() + 1, 1000])('rejects threads = %s, starting none', async (threads) => {
    const result = await withThreads(dense, { threads })();
    expect(E.isLeft(result) && result.left).toMatchObject({ _tag: 'InvalidArgument', path: 'options.threads', expected: `an integer from 1 to ${maxThreads()} (the cores this machine has)` });
  });

  it('says how to load a custom layer class in the workers, and loads it from `modules`', async () => {
    const model = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [8], units: 6, name: 'd1' }), new Doubling({ name: 'double' }), tfl.layers.dense({ units: 2, activation: 'softmax' })] });
    try {
      const without = err(await withThreads(model, { threads: 1 })());
      expect(without).toMatchObject({ _tag: 'InvalidArgument', path: 'options.modules' });
      expect(without.message).toContain("'TransferkitTestDoubling'");
      const modules = [new URL('../../fixtures/customLayer.ts', import.meta.url).href];
      const backbone = ok(await withThreads(model, { threads: 1, modules })());
      const x = tf.randomNormal([3, 8], 0, 1, 'float32', 2);
      const at = backbone.layers[backbone.top]!;
      const expected = ok(await ok(fromLayersModel(model)).embed(x, at, { pooling: 'average', batchSize: 3 })());
      expect(ok(await backbone.embed(x, at, { pooling: 'average', batchSize: 3 })()).data).toEqual(expected.data);
      x.dispose();
      await backbone.close();
      expect(err(await withThreads(model, { modules: 'x' as never })())).toMatchObject({ path: 'options.modules' });
    } finally {
      model.dispose();
    }
  });
});

describe('training with withThreads', () => {
  expectNoLeakedTensors();

  const { minSteps: _h, ...head } = headPhase;
  const { minSteps: _f, ...fine } = fineTunePhase({ kind: 'all' });
  /** Two SGD phases of 2 epochs: the head alone and everything, in the given order. */
  const sgdRecipe = (order: 'head first' | 'fine-tune first', rates: readonly [number, number]) => {
    const phases = [
      { ...head, epochs: 2, optimizer: 'sgd' as const, learningRate: rates[0] },
      { ...fine, epochs: 2, optimizer: 'sgd' as const, learningRate: rates[1] },
    ];
    return ok(makeRecipe({ tap: { kind: 'top' }, phases: order === 'head first' ? phases : phases.reverse() }));
  };

  it('splits each step between threads and ends with the weights one thread gets (SGD, no dropout)', async () => {
    const { x, y } = toyData([8, 8, 3], 40, 3);
    const recipe = sgdRecipe('head first', [0.05, 0.01]);
    const before = snapshot(conv);
    const one = ok(await transfer(local, recipe, { x, y }, { seed: 1, batchSize: 8 })());
    const two = ok(await transfer(threaded, recipe, { x, y }, { seed: 1, batchSize: 8 })());
    x.dispose();
    expect([one.history.map((h) => h.trainThreads), two.history.map((h) => h.trainThreads)]).toEqual([
      [1, 1],
      [2, 2],
    ]);
    const a = ok(one.model.weights());
    const b = ok(two.model.weights());
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [key, values] of a) expectClose(b.get(key)!, values, 1e-6);
    // The same loss, step by step (summed over the parts instead of over the whole batch).
    two.history.forEach((phase, p) => phase.epochs.forEach((e, k) => expect(e.loss).toBeCloseTo(one.history[p]!.epochs[k]!.loss, 5)));
    one.model.dispose();
    two.model.dispose();
    expect(snapshot(conv)).toEqual(before);
  });

  it('splits each thread’s part into micro-batches where a step would not fit, with the weights one thread gets from whole batches', async () => {
    const { x, y } = toyData([8, 8, 3], 40, 3);
    const recipe = sgdRecipe('head first', [0.05, 0.01]);
    const built = ok(await local.build({ tap: local.layers[local.top]!, head: { hidden: [], dropout: 0 }, classes: 3, pooling: 'average', start: 'pretrained', seed: 1 })());
    const memoryBytes = 2 * ok(built.planPhase(recipe.phases[1]!, 8, Number.MAX_VALUE)).bytesPerExample;
    built.dispose();
    const one = ok(await transfer(local, recipe, { x, y }, { seed: 1, batchSize: 8 })());
    const two = ok(await transfer(threaded, recipe, { x, y }, { seed: 1, batchSize: 8, memoryBytes })());
    x.dispose();
    // Each thread's 4 rows of a batch run as passes of 2.
    expect(two.history.map((h) => [h.trainThreads, h.microBatch])).toEqual([
      [2, 8],
      [2, 2],
    ]);
    const a = ok(one.model.weights());
    const b = ok(two.model.weights());
    for (const [key, values] of a) expectClose(b.get(key)!, values, 1e-6);
    one.model.dispose();
    two.model.dispose();
  });

  it('evaluates split between threads at the weights of the moment: each epoch’s validation scores as one thread’s', async () => {
    const { x, y } = toyData([8, 8, 3], 24, 3);
    const { x: vx, y: vy } = toyData([8, 8, 3], 11, 3, 5);
    const recipe = sgdRecipe('head first', [0.05, 0.01]);
    const options = { seed: 1, batchSize: 8, validation: { data: { x: vx, y: vy } } };
    const one = ok(await transfer(local, recipe, { x, y }, options)());
    const two = ok(await transfer(threaded, recipe, { x, y }, options)());
    tf.dispose([x, vx]);
    // Batches of 8, 3 (split 4 + 4, 2 + 1): a share that kept the weights it was sent for the
    // last step, one update behind, would score differently.
    const scores = (r: typeof one) => r.history.flatMap((h) => h.epochs.map((e) => [e.validationLoss!, e.validationAccuracy!]));
    const [a, b] = [scores(one), scores(two)];
    expect(b).toHaveLength(4);
    b.forEach(([loss, accuracy], k) => {
      expect(loss).toBeCloseTo(a[k]![0]!, 5);
      expect(accuracy).toBe(a[k]![1]);
    });
    one.model.dispose();
    two.model.dispose();
  });

  it('caches the frozen prefix on the embedding threads: the rows the caller’s thread would, in order', async () => {
    const { x, y } = toyData([8, 8, 3], 21, 3);
    const { x: vx, y: vy } = toyData([8, 8, 3], 9, 3, 5);
    const labels = Int32Array.from(y);
    const validation = { inputs: vx, labels: Int32Array.from(vy) };
    // Head only (the top, a vector, is cached; or a feature map the threads pool themselves) and
    // the last block training (the feature maps it reads are cached).
    const runs = [
      ['gap', { kind: 'head-only' as const }],
      ['block_out', { kind: 'head-only' as const }],
      ['gap', { kind: 'top-layers' as const, count: 2 }],
    ] as const;
    for (const [tap, trains] of runs) {
      const spec = { tap: local.layers.find((l) => l.name === tap)!, pooling: 'average' as const, classes: 3, head: { hidden: [], dropout: 0 }, seed: 4, start: 'pretrained' as const };
      const phase = { name: 'p', trains, epochs: 1, learningRate: 0.01, optimizer: 'sgd' as const, regularization: { l2: 0 } };
      const sessions = [];
      for (const backbone of [local, threaded]) {
        const model = ok(await backbone.build(spec)());
        sessions.push({ model, session: ok(await model.startPhase({ phase, inputs: x, labels, validation, batchSize: 4, seed: 1 })()) });
      }
      const [here, there] = sessions as [(typeof sessions)[0], (typeof sessions)[0]];
      expect([here.session.cacheThreads, there.session.cacheThreads]).toEqual([1, 2]);
      // Each example's loss at the same starting weights: the same cached rows, in the same order.
      for (const [set, n] of [['train', 21], ['validation', 9]] as const) {
        for (let i = 0; i < n; i++) {
          const at = Int32Array.of(i);
          expect(ok(await there.session.evaluate(set, at))).toEqual(ok(await here.session.evaluate(set, at)));
        }
      }
      for (const { model, session } of sessions) {
        session.dispose();
        model.dispose();
      }
    }
    tf.dispose([x, vx]);
  });

  it('takes inputs kept in a row store: embeds, caches on the threads and trains as with the tensor', async () => {
    const { x, y } = toyData([8, 8, 3], 13, 3);
    const store = ok(memoryRowStore({ chunkFloats: 500 }))(192);
    store.append(x.dataSync() as Float32Array);
    const stored = { store, shape: [8, 8, 3] };
    try {
      const top = threaded.layers[threaded.top]!;
      const how = { pooling: 'average' as const, batchSize: 4 };
      expect(ok(await threaded.embed(stored, top, how)())).toEqual(ok(await threaded.embed(x, top, how)()));
      const a = ok(await transfer(threaded, partialFineTune, { x, y }, { seed: 2, batchSize: 4, epochs: 2 })());
      const b = ok(await transfer(threaded, partialFineTune, { x: stored, y }, { seed: 2, batchSize: 4, epochs: 2 })());
      expect(b.history[0]!.cacheThreads).toBe(2);
      const wa = ok(a.model.weights());
      const wb = ok(b.model.weights());
      for (const [key, values] of wa) expectClose(wb.get(key)!, values, 1e-6);
      expect(store.rows).toBe(13);
      a.model.dispose();
      b.model.dispose();
    } finally {
      store.dispose();
      x.dispose();
    }
  });

  it('leaves no tensor behind in the worker threads either, after phases that cached, trained and evaluated there', async () => {
    const { x, y } = toyData([8, 8, 3], 24, 3);
    const before = ok(await threaded.tensorsInThreads()());
    // Head only: the pooled top cached on the threads; then the last block: a feature map cached
    // on the threads, steps and the runner's probe evaluations shared.
    // At block_out, a feature map: the threads pool it themselves for the head-only phase.
    const lastBlock = ok(makeRecipe({ tap: { kind: 'layer', name: 'block_out' }, phases: [{ ...head, epochs: 1 }, { ...fine, trains: { kind: 'top-layers', count: 2 }, epochs: 1 }] }));
    const result = ok(await transfer(threaded, lastBlock, { x, y }, { seed: 5, batchSize: 8 })());
    expect(result.history.map((h) => [h.cacheThreads, h.trainThreads])).toEqual([
      [2, 2],
      [2, 2],
    ]);
    result.model.dispose();
    x.dispose();
    expect(ok(await threaded.tensorsInThreads()())).toEqual(before);
  });

  it('caches (and trains) on the caller’s thread once an earlier phase trained part of the prefix, or the threads are closed', async () => {
    const { x, y } = toyData([8, 8, 3], 24, 3);
    // The second phase's prefix is the whole backbone, which the first phase trained: the threads'
    // copies of the source would give the rows of the untrained backbone.
    const recipe = sgdRecipe('fine-tune first', [0.05, 0.05]);
    const one = ok(await transfer(local, recipe, { x, y }, { seed: 1, batchSize: 8 })());
    const two = ok(await transfer(threaded, recipe, { x, y }, { seed: 1, batchSize: 8 })());
    expect(two.history.map((h) => h.cacheThreads)).toEqual([0, 1]);
    const a = ok(one.model.weights());
    for (const [key, values] of ok(two.model.weights())) expectClose(values, a.get(key)!, 1e-5);
    one.model.dispose();
    two.model.dispose();
    const headOnly = ok(makeRecipe({ tap: { kind: 'top' }, phases: [{ ...head, epochs: 1 }] }));
    const closed = ok(await withThreads(conv, { threads: 2 })());
    const open = ok(await transfer(closed, headOnly, { x, y }, { seed: 1, batchSize: 8 })());
    await closed.close();
    const after = ok(await transfer(closed, headOnly, { x, y }, { seed: 1, batchSize: 8 })());
    expect([open.history[0]!.cacheThreads, after.history[0]!.cacheThreads]).toEqual([2, 1]);
    expect([open.history[0]!.trainThreads, after.history[0]!.trainThreads]).toEqual([2, 1]);
    // Closed, it also trains on the caller's thread alone: the same steps, added up differently.
    const trainedOpen = ok(open.model.weights());
    for (const [key, values] of ok(after.model.weights())) expectClose(values, trainedOpen.get(key)!, 1e-6);
    open.model.dispose();
    after.model.dispose();
    x.dispose();
  });

  it('stops caching on the threads once the signal fires: no batch is sent after it', async () => {
    const model = denseModel(6);
    const backbone = ok(await withThreads(model, { threads: 2 })());
    const { x, y } = toyData([8], 4000, 3);
    const controller = new AbortController();
    let sent = 0;
    try {
      const before = ok(await backbone.tensorsInThreads()());
      // The first progress a caller can see is a training batch; abort from a timer instead, while caching.
      setTimeout(() => controller.abort(), 5);
      const e = err(await transfer(backbone, featureExtractor, { x, y }, { batchSize: 8, signal: controller.signal, onProgress: () => void sent++ })());
      expect(e._tag).toBe('Aborted');
      const at = /batch (\d+) of (\d+)/.exec(e.message);
      expect(at).not.toBeNull();
      expect(Number(at![1])).toBeLessThan(Number(at![2]));
      expect(sent).toBe(0);
      // The workers freed what they compiled for the phase.
      expect(ok(await backbone.tensorsInThreads()())).toEqual(before);
    } finally {
      x.dispose();
      await backbone.close();
      model.dispose();
    }
  });

  it('trains a from-scratch model on the caller’s thread alone: batch statistics do not split', async () => {
    const { x, y } = toyData([8, 8, 3], 24, 3);
    const one = ok(await transfer(local, fromScratch, { x, y }, { seed: 3, batchSize: 8, epochs: 2 })());
    const two = ok(await transfer(threaded, fromScratch, { x, y }, { seed: 3, batchSize: 8, epochs: 2 })());
    x.dispose();
    expect(two.history[0]!.trainThreads).toBe(1);
    expect(ok(two.model.weights())).toEqual(ok(one.model.weights()));
    one.model.dispose();
    two.model.dispose();
  });

  it('trains with dropout too (each part draws its own masks)', async () => {
    const { x, y } = toyData([8, 8, 3], 24, 3);
    const recipe = ok(makeRecipe({ tap: { kind: 'top' }, head: { hidden: [], dropout: 0.3 }, phases: [{ ...fine, epochs: 2 }] }));
    const result = ok(await transfer(threaded, recipe, { x, y }, { seed: 2, batchSize: 8 })());
    x.dispose();
    expect(result.history[0]!.epochs.every((e) => Number.isFinite(e.loss))).toBe(true);
    result.model.dispose();
  });
});
