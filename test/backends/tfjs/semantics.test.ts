/**
 * The guarantees tfjs-layers 4.22 breaks by default (DESIGN.md, `../shared/repro/tfjs-pitfalls.mjs`)
 * and the tfjs backend must keep: frozen means frozen (BatchNorm statistics included), a phase's
 * policy takes effect, any layer of a functional model can be the tap, seeded runs, checked labels,
 * no leaks on any path, abort within a batch.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { either as E } from 'fp-ts';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  earlierLayerTap,
  embed,
  evaluate,
  featureExtractor,
  fineTunePhase,
  fromScratch,
  fullFineTune,
  headPhase,
  makeRecipe,
  partialFineTune,
  selectStrategy,
  transfer,
  type Progress,
  type Recipe,
  type TransferOptions,
} from 'transferkit';
import { fromLayersModel } from 'transferkit/tfjs';
import { err, ok } from '../../fixtures/either';
import { denseModel, mobileNetLike, snapshot, toyData } from '../../fixtures/models';
import { expectNoLeakedTensors } from '../../fixtures/tensors';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// Every test frees what it made: models, data and results.
expectNoLeakedTensors();

const quick = { epochs: 1, batchSize: 8, seed: 5 } as const;
const changed = (a: ReadonlyMap<string, Float32Array>, b: ReadonlyMap<string, Float32Array>): string[] =>
  [...a].filter(([k, v]) => b.has(k) && v.some((x, i) => !Object.is(x, b.get(k)![i]))).map(([k]) => k).sort();

/** Runs `body` with a fresh source model and data, then frees both. */
const withModel = async (make: () => tfl.LayersModel, shape: number[], body: (m: tfl.LayersModel, x: tf.Tensor, y: number[]) => Promise<void>) => {
  const model = make();
  const { x, y } = toyData(shape, 24, 3);
  try {
    await body(model, x, y);
  } finally {
    x.dispose();
    model.dispose();
  }
};

describe('1–3. the source is never mutated; frozen is frozen; a new policy takes effect', () => {
  it('a head-only phase leaves every copied backbone weight, BatchNorm statistics included, as the source has it', () =>
    withModel(denseModel, [8], async (model, x, y) => {
      const source = snapshot(model);
      const result = ok(await transfer(ok(fromLayersModel(model)), featureExtractor, { x, y }, { ...quick, epochs: 3 })());
      const trained = ok(result.model.weights());
      expect(changed(source, trained)).toEqual([]);
      expect([...trained.keys()].filter((k) => k.startsWith('transferkit_head')).length).toBe(2);
      result.model.dispose();
    }));

  it('the fine-tune phase trains exactly the top layers; lower ones and all BatchNorm statistics stay', () =>
    withModel(denseModel, [8], async (model, x, y) => {
      const source = snapshot(model);
      const recipe = ok(makeRecipe({ tap: { kind: 'top' }, phases: [headPhase, fineTunePhase({ kind: 'top-layers', count: 2 })] }));
      const result = ok(await transfer(ok(fromLayersModel(model)), recipe, { x, y }, quick)());
      // Top two weighted layers below the tap (d2): d2 and bn1. BatchNorm's scale and offset train;
      // its moving statistics do not (the backbone runs in inference mode, as Keras advises).
      expect(changed(source, ok(result.model.weights()))).toEqual(['bn1/beta', 'bn1/gamma', 'd2/bias', 'd2/kernel']);
      result.model.dispose();
      expect(changed(source, snapshot(model))).toEqual([]);
    }));

  it('a full fine-tune trains every backbone layer, and the source still does not move', () =>
    withModel(mobileNetLike, [8, 8, 3], async (model, x, y) => {
      const source = snapshot(model);
      const result = ok(await transfer(ok(fromLayersModel(model)), fullFineTune, { x, y }, quick)());
      const moved = changed(source, ok(result.model.weights()));
      expect(moved).toEqual(expect.arrayContaining(['stem_conv/kernel', 'dw/depthwise_kernel', 'pw/kernel', 'pw_bn/gamma', 'stem_bn/beta']));
      expect(moved.filter((k) => k.includes('moving_'))).toEqual([]);
      result.model.dispose();
      expect(changed(source, snapshot(model))).toEqual([]);
    }));

  it('disposing the result leaves the source working', () =>
    withModel(mobileNetLike, [8, 8, 3], async (model, x, y) => {
      const before = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());
      const result = ok(await transfer(ok(fromLayersModel(model)), partialFineTune, { x, y }, quick)());
      result.model.dispose();
      expect(tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync())).toEqual(before);
    }));
});

describe('from scratch: the architecture without its weights', () => {
  const initial = async (model: tfl.LayersModel, seed: number) => {
    const backbone = ok(fromLayersModel(model));
    const spec = { tap: backbone.layers[backbone.top]!, head: fromScratch.head, classes: 3, pooling: 'average' as const, start: 'random' as const, seed };
    const built = ok(await backbone.build(spec)());
    const weights = ok(built.weights());
    built.dispose();
    return weights;
  };

  it('starts every seeded initialiser afresh, the same for one seed, other values for another', () =>
    withModel(mobileNetLike, [8, 8, 3], async (model) => {
      const source = snapshot(model);
      const a = await initial(model, 1);
      // Every kernel is new; what a constant initialiser sets (BatchNorm's offset, scale and moving
      // statistics) starts at that constant, not at the source's trained value.
      const kernels = [...a.keys()].filter((k) => /kernel$/.test(k) && source.has(k));
      expect(kernels).toEqual(expect.arrayContaining(['stem_conv/kernel', 'dw/depthwise_kernel', 'pw/kernel']));
      expect(changed(source, a)).toEqual(expect.arrayContaining(kernels));
      expect(Array.from(a.get('stem_bn/moving_variance')!)).toEqual(Array.from(a.get('stem_bn/moving_variance')!, () => 1));
      expect(changed(a, await initial(model, 1))).toEqual([]);
      expect(changed(a, await initial(model, 2))).toEqual(expect.arrayContaining(kernels));
      expect(changed(source, snapshot(model))).toEqual([]);
    }));

  it('trains BatchNorm on batch statistics, moving its statistics, and predicts with the moved ones', () =>
    withModel(mobileNetLike, [8, 8, 3], async (model, x, y) => {
      const source = snapshot(model);
      const start = await initial(model, quick.seed);
      const result = ok(await transfer(ok(fromLayersModel(model)), fromScratch, { x, y }, quick)());
      const trained = ok(result.model.weights());
      const moving = [...start.keys()].filter((k) => k.includes('moving_'));
      expect(moving.length).toBeGreaterThanOrEqual(4);
      expect(changed(start, trained)).toEqual(expect.arrayContaining(moving));
      // In inference mode the model normalises by the moved statistics: its predictions are those of
      // a plain tfjs model given the same weights.
      const probs = ok(await result.model.predict(x)());
      let saved: tf.io.ModelArtifacts | undefined;
      ok(await result.model.save(tf.io.withSaveHandler(async (artifacts) => ((saved = artifacts), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })))());
      const plain = await tfl.loadLayersModel(tf.io.fromMemory(saved!));
      const expected = tf.tidy(() => (plain.predict(x) as tf.Tensor).dataSync());
      plain.dispose();
      probs.data.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
      result.model.dispose();
      expect(changed(source, snapshot(model))).toEqual([]);
    }));

  it('a recipe that starts from random weights must train everything in every phase', () => {
    const bad = err(makeRecipe({ tap: { kind: 'top' }, start: 'random', phases: [headPhase, fineTunePhase({ kind: 'all' })] }));
    expect(bad).toMatchObject({ _tag: 'InvalidArgument', path: 'phases[0].trains' });
  });
});

describe('4. any layer of a functional model can be the tap', () => {
  it('every layer up to the top, including inside the residual block, as a head-only tap', () =>
    withModel(mobileNetLike, [8, 8, 3], async (model, x, y) => {
      const backbone = ok(fromLayersModel(model));
      const names = backbone.layers.slice(1, backbone.top + 1).map((l) => l.name);
      expect(names).toEqual(['stem_conv', 'stem_bn', 'stem_relu', 'dw', 'dw_bn', 'dw_relu', 'pw', 'pw_bn', 'add', 'block_out', 'gap']);
      for (const name of names) {
        const recipe = ok(makeRecipe({ tap: { kind: 'layer', name }, phases: [headPhase] }));
        const result = ok(await transfer(backbone, recipe, { x, y }, quick)());
        expect(result.tap.name).toBe(name);
        result.model.dispose();
      }
    }));

  it('a fine-tune whose trainable part reads two cached tensors (the skip and the branch) at the residual add', () =>
    withModel(mobileNetLike, [8, 8, 3], async (model, x, y) => {
      const source = snapshot(model);
      const recipe = ok(makeRecipe({ tap: { kind: 'layer', name: 'add' }, phases: [headPhase, fineTunePhase({ kind: 'top-layers', count: 2 })] }));
      const result = ok(await transfer(ok(fromLayersModel(model)), recipe, { x, y }, quick)());
      expect(changed(source, ok(result.model.weights()))).toEqual(['pw/kernel', 'pw_bn/beta', 'pw_bn/gamma']);
      result.model.dispose();
    }));

  it('a relative depth lands at the end of a block: halfway up is the depthwise ReLU, not the conv before it', () =>
    withModel(mobileNetLike, [8, 8, 3], async (model, x, y) => {
      const halfway = ok(makeRecipe({ ...earlierLayerTap, tap: { kind: 'relative-depth', depth: 0.5 } }));
      const result = ok(await transfer(ok(fromLayersModel(model)), halfway, { x, y }, quick)());
      expect(result.tap.name).toBe('dw_relu');
      result.model.dispose();
    }));
});

describe('recipes from selectStrategy run unchanged', () => {
  it.each([
    [12, 0.9, 'feature-extractor'],
    [12, 0.1, 'earlier-layer-tap'],
    [3000, 0.9, 'partial-fine-tune'],
    [30_000, 0.6, 'full-fine-tune'],
    [30_000, 0.0, 'from-scratch'],
  ] as const)('size %i, similarity %f → %s', async (size, similarity, kind) => {
    await withModel(mobileNetLike, [8, 8, 3], async (model, x, y) => {
      const recipe = ok(selectStrategy({ size, similarity, classes: 3 }));
      expect(recipe.kind).toBe(kind);
      const result = ok(await transfer(ok(fromLayersModel(model)), recipe, { x, y }, quick)());
      expect(result.history).toHaveLength(recipe.phases.length);
      result.model.dispose();
    });
  });
});

describe('5. seeded', () => {
  it('the validation split and the history repeat for one seed', () =>
    withModel(denseModel, [8], async (model, x, y) => {
      const backbone = ok(fromLayersModel(model));
      const options: TransferOptions<tf.Tensor> = { ...quick, epochs: 2, validation: { split: 0.25 } };
      const a = ok(await transfer(backbone, partialFineTune, { x, y }, options)());
      const b = ok(await transfer(backbone, partialFineTune, { x, y }, options)());
      const numbers = (r: typeof a) => r.history.map((h) => h.epochs);
      expect(numbers(a)).toEqual(numbers(b));
      expect(a.history[0]!.epochs[0]!.validationAccuracy).toBeDefined();
      a.model.dispose();
      b.model.dispose();
    }));

  it('the L2 penalty applies on every run in a process, not only the first', () =>
    // tfjs renames the variables of later models (`kernel_1`); matching on that name once dropped
    // the penalty from the second run on, so the first run of a process differed from the rest.
    withModel(denseModel, [8], async (model, x, y) => {
      const backbone = ok(fromLayersModel(model));
      const withL2 = (l2: number): Recipe => ({ ...featureExtractor, phases: featureExtractor.phases.map((p) => ({ ...p, regularization: { l2 } })) });
      const runs = [];
      for (const l2 of [0, 0.5, 0, 0.5]) runs.push(ok(await transfer(backbone, withL2(l2), { x, y }, quick)()));
      const [none, strong, noneAgain, strongAgain] = runs.map((r) => ok(r.model.weights()));
      expect(changed(none!, strong!)).not.toEqual([]);
      expect(changed(none!, noneAgain!)).toEqual([]);
      expect(changed(strong!, strongAgain!)).toEqual([]);
      runs.forEach((r) => r.model.dispose());
    }));
});

describe('6. labels are checked: tfjs would train on out-of-range labels with a loss of 0', () => {
  const cases: Array<[string, unknown, number | undefined, string]> = [
    ['a label ≥ the number of classes', [0, 1, 3], 3, 'labels[2]'],
    ['a negative label', [0, -1, 2], undefined, 'labels[1]'],
    ['a fractional label', [0, 1.5, 2], undefined, 'labels[1]'],
    ['a NaN label', [0, Number.NaN, 2], undefined, 'labels[1]'],
    ['a class with no example', [0, 2, 2], undefined, 'labels'],
    ['one class only', [0, 0, 0], undefined, 'labels'],
    ['no labels at all', [], undefined, 'labels'],
    ['one-hot rows of the wrong width', { rows: 3, cols: 2, data: new Float32Array([1, 0, 0, 1, 1, 0]) }, 3, 'labels'],
    ['a one-hot row with two ones', { rows: 3, cols: 3, data: new Float32Array([1, 0, 0, 0, 1, 1, 0, 0, 1]) }, undefined, 'labels row 1'],
  ];
  it.each(cases)('%s → InvalidArgument', async (_, labels, classes, path) => {
    await withModel(denseModel, [8], async (model) => {
      const x = tf.zeros([3, 8]);
      const options = classes === undefined ? quick : { ...quick, classes };
      const e = err(await transfer(ok(fromLayersModel(model)), featureExtractor, { x, y: labels as number[] }, options)());
      expect(e._tag === 'InvalidArgument' || e._tag === 'ShapeMismatch').toBe(true);
      expect(e.path).toBe(path);
      x.dispose();
    });
  });

  it('one-hot labels train like their class ids', () =>
    withModel(denseModel, [8], async (model, x, y) => {
      const backbone = ok(fromLayersModel(model));
      const oneHot = { rows: y.length, cols: 3, data: Float32Array.from(y.flatMap((c) => [0, 1, 2].map((k) => (k === c ? 1 : 0)))) };
      const a = ok(await transfer(backbone, featureExtractor, { x, y }, quick)());
      const b = ok(await transfer(backbone, featureExtractor, { x, y: oneHot }, quick)());
      expect(b.history).toEqual(a.history.map((h) => ({ ...h, cacheMs: b.history[0]!.cacheMs, trainMs: b.history[0]!.trainMs })));
      a.model.dispose();
      b.model.dispose();
    }));
});

describe('bad input: a typed Left before anything trains', () => {
  const bad: Array<[string, (x: tf.Tensor, y: number[]) => { recipe?: Recipe; data?: { x: tf.Tensor; y: number[] }; options?: TransferOptions<tf.Tensor> }, string]> = [
    ['an unknown tap name, listing the valid ones', () => ({ recipe: { ...earlierLayerTap, tap: { kind: 'layer', name: 'nope' } } }), 'tap.name'],
    ['a tap index past the top', () => ({ recipe: { ...earlierLayerTap, tap: { kind: 'index', index: 3 } } }), 'tap.index'],
    ['a tap offset below the input', () => ({ recipe: { ...earlierLayerTap, tap: { kind: 'from-top', offset: 9 } } }), 'tap.offset'],
    ['learning rate 0', () => ({ recipe: { ...featureExtractor, phases: [{ ...headPhase, learningRate: 0 }] } }), 'phases[0].learningRate'],
    ['epochs 0 in a phase', () => ({ recipe: { ...featureExtractor, phases: [{ ...headPhase, epochs: 0 }] } }), 'phases[0].epochs'],
    ['a kind that the phases contradict', () => ({ recipe: { ...featureExtractor, kind: 'full-fine-tune' } }), 'recipe.kind'],
    ['batch size 0', () => ({ options: { batchSize: 0 } }), 'options.batchSize'],
    ['epochs 1.5', () => ({ options: { epochs: 1.5 } }), 'options.epochs'],
    ['a time budget of 0 ms', () => ({ options: { maxPhaseMs: 0 } }), 'options.maxPhaseMs'],
    ['early stopping with a patience of 0', () => ({ recipe: { ...featureExtractor, phases: [{ ...headPhase, earlyStopping: { patience: 0 } }] } }), 'phases[0].earlyStopping.patience'],
    ['early stopping with a negative minDelta', () => ({ recipe: { ...featureExtractor, phases: [{ ...headPhase, earlyStopping: { patience: 5, minDelta: -1 } }] } }), 'phases[0].earlyStopping.minDelta'],
    ['a phase time budget that is not a number', () => ({ recipe: { ...featureExtractor, phases: [{ ...headPhase, maxMs: Number.NaN }] } }), 'phases[0].maxMs'],
    ['validation split 1', () => ({ options: { validation: { split: 1 } } }), 'options.validation.split'],
    ['validation split 0', () => ({ options: { validation: { split: 0 } } }), 'options.validation.split'],
    ['more labels than inputs', (x, y) => ({ data: { x, y: [...y, 0] } }), 'y'],
    ['fewer labels than inputs', (x, y) => ({ data: { x, y: y.slice(1) } }), 'y'],
    ['pooling that does not exist', () => ({ options: { pooling: 'max' as 'average' } }), 'options.pooling'],
    ['a validation set with a label out of range', (x, y) => ({ options: { validation: { data: { x, y: y.map(() => 3) } } } }), 'validation.labels[0]'],
  ];
  it.each(bad)('%s', async (_, change, path) => {
    await withModel(denseModel, [8], async (model, x, y) => {
      const c = change(x, y);
      const e = err(await transfer(ok(fromLayersModel(model)), c.recipe ?? featureExtractor, c.data ?? { x, y }, { ...quick, ...c.options })());
      expect(e.path).toBe(path);
    });
  });

  it('an unknown tap lists the valid layer names', () =>
    withModel(denseModel, [8], async (model, x, y) => {
      const e = err(await transfer(ok(fromLayersModel(model)), { ...earlierLayerTap, tap: { kind: 'layer', name: 'nope' } }, { x, y }, quick)());
      expect(e.expected).toContain('d1, bn1, d2');
    }));

  it('an already-aborted signal, a disposed source, a disposed result', () =>
    withModel(denseModel, [8], async (model, x, y) => {
      const backbone = ok(fromLayersModel(model));
      expect(err(await transfer(backbone, featureExtractor, { x, y }, { ...quick, signal: AbortSignal.abort() })())._tag).toBe('Aborted');
      const result = ok(await transfer(backbone, featureExtractor, { x, y }, quick)());
      result.model.dispose();
      expect(err(await result.model.predict(x)())._tag).toBe('InvalidArgument');
      const other = denseModel(2);
      const otherBackbone = ok(fromLayersModel(other));
      other.dispose();
      expect(err(await transfer(otherBackbone, featureExtractor, { x, y }, quick)()).received).toBe('a disposed model');
      expect(err(fromLayersModel(other)).received).toBe('a disposed model');
    }));

  it('fine-tuning a backbone that cannot fine-tune is NotSupported; a head-only recipe still runs', () =>
    withModel(denseModel, [8], async (model, x, y) => {
      const frozen = { ...ok(fromLayersModel(model)), capabilities: { fineTune: false, description: 'a frozen graph model' } };
      const e = err(await transfer(frozen, fullFineTune, { x, y }, quick)());
      expect(e).toMatchObject({ _tag: 'NotSupported', received: 'a full-fine-tune recipe on a frozen graph model' });
      const r = ok(await transfer(frozen, featureExtractor, { x, y }, quick)());
      r.model.dispose();
    }));

  it('models with several inputs are NotSupported; a model that is only a classifier has no features', () => {
    const a = tfl.input({ shape: [2] });
    const b = tfl.input({ shape: [2] });
    const twoInputs = tfl.model({ inputs: [a, b], outputs: tfl.layers.concatenate().apply([a, b]) as tfl.SymbolicTensor });
    expect(err(fromLayersModel(twoInputs))._tag).toBe('NotSupported');
    const classifierOnly = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [4], units: 2, activation: 'softmax' })] });
    expect(err(fromLayersModel(classifierOnly)).path).toBe('options.top');
    expect(ok(fromLayersModel(classifierOnly, { top: 0 })).top).toBe(0);
    twoInputs.dispose();
    classifierOnly.dispose();
  });
});

describe('7. long work: progress, abort within a batch, nothing leaks', () => {
  it('reports every batch of every epoch of every phase', () =>
    withModel(denseModel, [8], async (model, x, y) => {
      const seen: Progress[] = [];
      const r = ok(await transfer(ok(fromLayersModel(model)), partialFineTune, { x, y }, { ...quick, epochs: 2, onProgress: (p) => seen.push(p) })());
      expect(seen.length).toBe(2 * 2 * 3); // phases × epochs × batches of 8 in 24
      expect(seen.at(-1)).toMatchObject({ phase: 'fine-tune', phaseIndex: 1, phases: 2, epoch: 2, epochs: 2, batch: 3, batches: 3 });
      r.model.dispose();
    }));

  it('a phase with minSteps runs enough epochs for that many steps; options.epochs overrides it exactly', () =>
    withModel(denseModel, [8], async (model, x, y) => {
      const backbone = ok(fromLayersModel(model));
      const recipe = ok(makeRecipe({ tap: { kind: 'top' }, phases: [{ ...headPhase, epochs: 1, minSteps: 7 }] }));
      const seen: Progress[] = [];
      const r = ok(await transfer(backbone, recipe, { x, y }, { batchSize: 8, seed: 5, onProgress: (p) => seen.push(p) })());
      // 24 examples in batches of 8 are 3 steps an epoch: 7 steps need ceil(7 / 3) = 3 epochs.
      expect(r.history[0]!.epochs).toHaveLength(3);
      expect(seen).toHaveLength(9);
      expect(seen.at(-1)).toMatchObject({ epoch: 3, epochs: 3, batch: 3, batches: 3 });
      r.model.dispose();
      const enough = ok(makeRecipe({ tap: { kind: 'top' }, phases: [{ ...headPhase, epochs: 4, minSteps: 7 }] }));
      const r2 = ok(await transfer(backbone, enough, { x, y }, { batchSize: 8, seed: 5 })());
      expect(r2.history[0]!.epochs).toHaveLength(4);
      r2.model.dispose();
      const r3 = ok(await transfer(backbone, recipe, { x, y }, { batchSize: 8, seed: 5, epochs: 2 })());
      expect(r3.history[0]!.epochs).toHaveLength(2);
      r3.model.dispose();
    }));

  it("a time budget ends a phase after the step that reaches it, and the report says so; without one every step runs", () =>
    withModel(denseModel, [8], async (model, x, y) => {
      const backbone = ok(fromLayersModel(model));
      const seen: Progress[] = [];
      // A budget far below one step's time: each phase takes exactly one step, then stops.
      const cut = ok(await transfer(backbone, partialFineTune, { x, y }, { ...quick, epochs: 50, maxPhaseMs: 1e-6, onProgress: (p) => seen.push(p) })());
      expect(cut.history.map((h) => [h.steps, h.stop, h.epochs.length])).toEqual([
        [1, 'time-budget', 1],
        [1, 'time-budget', 1],
      ]);
      expect(seen.map((p) => [p.phase, p.epoch, p.batch])).toEqual([
        ['head', 1, 1],
        ['fine-tune', 1, 1],
      ]);
      cut.model.dispose();
      // A phase's own maxMs does the same, for that phase alone.
      const recipe = ok(makeRecipe({ ...partialFineTune, phases: [{ ...partialFineTune.phases[0]!, maxMs: 1e-6 }, partialFineTune.phases[1]!] }));
      const own = ok(await transfer(backbone, recipe, { x, y }, { ...quick, epochs: 2 })());
      expect(own.history.map((h) => [h.steps, h.stop])).toEqual([
        [1, 'time-budget'],
        [6, 'epochs'],
      ]);
      own.model.dispose();
      const full = ok(await transfer(backbone, partialFineTune, { x, y }, { ...quick, epochs: 2 })());
      expect(full.history.map((h) => [h.steps, h.stop])).toEqual([
        [6, 'epochs'],
        [6, 'epochs'],
      ]);
      full.model.dispose();
    }));

  it('early stopping ends a phase at the first epoch that is patience steps past the best validation loss; without validation it does nothing', () =>
    withModel(denseModel, [8], async (model, x, y) => {
      const backbone = ok(fromLayersModel(model));
      const patience = 4;
      const recipe = ok(makeRecipe({ tap: { kind: 'top' }, phases: [{ ...headPhase, epochs: 200, minSteps: 1, earlyStopping: { patience } }] }));
      // Validation labels unrelated to the inputs: the validation loss soon stops improving.
      const unrelated = { x, y: y.map((label, i) => (label + 1 + (i % 2)) % 3) };
      const r = ok(await transfer(backbone, recipe, { x, y }, { batchSize: 8, seed: 5, validation: { data: unrelated } })());
      const phase = r.history[0]!;
      expect(phase.stop).toBe('early-stopping');
      const batches = 3; // 24 examples in batches of 8
      expect(phase.steps).toBe(phase.epochs.length * batches);
      expect(phase.steps).toBeLessThan(200 * batches);
      // Replay the rule on the reported losses: the phase ended at the first epoch where it held.
      let best = { loss: Infinity, step: 0 };
      const stoppedAt = phase.epochs.findIndex((e, i) => {
        const step = (i + 1) * batches;
        if (e.validationLoss! < best.loss) best = { loss: e.validationLoss!, step };
        else if (step - best.step >= patience) return true;
        return false;
      });
      expect(stoppedAt).toBe(phase.epochs.length - 1);
      r.model.dispose();
      const none = ok(await transfer(backbone, recipe, { x, y }, { batchSize: 8, seed: 5, epochs: 5 })());
      expect([none.history[0]!.stop, none.history[0]!.steps]).toEqual(['epochs', 15]);
      none.model.dispose();
    }));

  it('stops within one batch of the abort, returns Aborted, and frees everything', () =>
    withModel(mobileNetLike, [8, 8, 3], async (model, x, y) => {
      const controller = new AbortController();
      let batchesAfterAbort = 0;
      const e = err(
        await transfer(ok(fromLayersModel(model)), fullFineTune, { x, y }, {
          ...quick,
          epochs: 3,
          signal: controller.signal,
          onProgress: (p) => {
            if (controller.signal.aborted) batchesAfterAbort++;
            if (p.phase === 'fine-tune' && p.batch === 2) controller.abort();
          },
        })(),
      );
      // Aborted before batch 3, the first that would have started after the signal.
      expect(e).toMatchObject({ _tag: 'Aborted', where: 'phase fine-tune, epoch 1, batch 3' });
      expect(batchesAfterAbort).toBe(0);
    }));

  it('an abort fired by a timer is seen between batches', () =>
    withModel(denseModel, [8], async (model, x, y) => {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), 20);
      const e = err(await transfer(ok(fromLayersModel(model)), featureExtractor, { x, y }, { ...quick, epochs: 100_000, signal: controller.signal })());
      clearTimeout(timer);
      expect(e._tag).toBe('Aborted');
    }));
});

describe('the backbone and the result', () => {
  it('copies a pretrained source whole: its weights, and its layers as they describe themselves', () =>
    withModel(mobileNetLike, [8, 8, 3], async (model) => {
      const backbone = ok(fromLayersModel(model));
      const spec = { tap: backbone.layers[backbone.top]!, head: { hidden: [], dropout: 0 }, classes: 3, pooling: 'average' as const, start: 'pretrained' as const, seed: 1 };
      const built = ok(await backbone.build(spec)());
      let saved: tf.io.ModelArtifacts | undefined;
      ok(await built.save(tf.io.withSaveHandler(async (artifacts) => ((saved = artifacts), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })))());
      const weights = ok(built.weights());
      built.dispose();
      type Topology = { config: { layers: Array<{ config: { name: string } }> } };
      const configs = (t: unknown) => new Map((t as Topology).config.layers.map((l) => [l.config.name, l.config]));
      const source = configs(model.toJSON(null, false));
      const copied = [...configs(saved!.modelTopology)].filter(([name]) => source.has(name));
      // Every layer up to the top (the classifier is left out), with its initialisers as the source's.
      expect(copied.map(([name]) => name)).toEqual([...source.keys()].filter((name) => name !== 'classifier'));
      for (const [name, config] of copied) expect(config, name).toEqual(source.get(name));
      expect(JSON.stringify(source.get('stem_conv'))).toContain('kernel_initializer');
      const original = snapshot(model);
      const shared = [...weights.keys()].filter((k) => original.has(k));
      expect(shared.length).toBeGreaterThanOrEqual(10);
      for (const key of shared) expect(weights.get(key), key).toEqual(original.get(key));
    }));

  it('finds the top feature layer below the classifier, or takes the one given', () => {
    const dense = denseModel();
    const mobile = mobileNetLike();
    expect(ok(fromLayersModel(dense)).layers[ok(fromLayersModel(dense)).top]!.name).toBe('d2');
    const m = ok(fromLayersModel(mobile));
    expect(m.layers[m.top]!.name).toBe('gap');
    expect(m.layers[m.top]!.inputs).toEqual([10]);
    expect(ok(fromLayersModel(mobile, { top: 'block_out' })).top).toBe(10);
    expect(err(fromLayersModel(mobile, { top: 'nope' })).path).toBe('options.top');
    dense.dispose();
    mobile.dispose();
  });

  it('embeds a batch at any layer, pooled or flattened, without touching its inputs', () =>
    withModel(mobileNetLike, [8, 8, 3], async (model, x) => {
      const backbone = ok(fromLayersModel(model));
      const at = backbone.layers.find((l) => l.name === 'dw_relu')!;
      const pooled = ok(await backbone.embed(x, at, { pooling: 'average', batchSize: 8 })());
      const flat = ok(await backbone.embed(x, at, { pooling: 'flatten', batchSize: 8 })());
      expect([pooled.rows, pooled.cols, flat.rows, flat.cols]).toEqual([24, 8, 24, 8 * 8 * 8]);
      // The average of each channel of the flattened map is the pooled value.
      const mean = Array.from({ length: 8 }, (_, c) => Array.from({ length: 64 }, (_, p) => flat.data[p * 8 + c]!).reduce((s, v) => s + v, 0) / 64);
      mean.forEach((v, c) => expect(pooled.data[c]).toBeCloseTo(v, 5));
      expect(x.isDisposed).toBe(false);
    }));

  it('embed() takes a layer reference, and refuses an unknown one with the valid names', () =>
    withModel(mobileNetLike, [8, 8, 3], async (model, x) => {
      const backbone = ok(fromLayersModel(model));
      const top = ok(await embed(backbone, x)());
      const named = ok(await embed(backbone, x, { kind: 'layer', name: 'stem_relu' }, { pooling: 'flatten' })());
      expect([top.rows, top.cols, named.cols]).toEqual([24, 8, 8 * 8 * 8]);
      expect(err(await embed(backbone, x, { kind: 'layer', name: 'classifier' })()).expected).toContain('stem_conv, stem_bn');
    }));

  it('a tap whose output cannot be average-pooled into a vector is refused; flattening it works', async () => {
    const input = tfl.input({ shape: [4, 4, 4, 1] });
    const volume = tfl.layers.conv3d({ filters: 2, kernelSize: 3, padding: 'same', name: 'volume' }).apply(input) as tfl.SymbolicTensor;
    const out = tfl.layers.dense({ units: 2, activation: 'softmax' }).apply(tfl.layers.flatten().apply(volume)) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: out });
    const x = tf.zeros([4, 4, 4, 4, 1]);
    const backbone = ok(fromLayersModel(model));
    const recipe = ok(makeRecipe({ tap: { kind: 'layer', name: 'volume' }, phases: [headPhase] }));
    const data = { x, y: [0, 1, 0, 1] };
    expect(err(await transfer(backbone, recipe, data, quick)())).toMatchObject({ _tag: 'ShapeMismatch', path: 'tap', received: 'rank 5' });
    const flat = ok(await transfer(backbone, recipe, data, { ...quick, pooling: 'flatten' })());
    flat.model.dispose();
    x.dispose();
    model.dispose();
  });

  it('learns: when the top features carry the labels, the head fits them', async () => {
    // Top features equal to the inputs (identity kernel); the toy labels are tertiles of x0 + x1.
    const model = tfl.sequential({
      layers: [
        tfl.layers.dense({ inputShape: [8], units: 8, kernelInitializer: tfl.initializers.identity({}), name: 'features' }),
        tfl.layers.dense({ units: 3, activation: 'softmax' }),
      ],
    });
    const { x, y } = toyData([8], 60, 3);
    const recipe = { ...featureExtractor, phases: [{ ...headPhase, learningRate: 0.05 }] };
    const r = ok(await transfer(ok(fromLayersModel(model)), recipe, { x, y }, { epochs: 40, batchSize: 10, seed: 1 })());
    const losses = r.history[0]!.epochs.map((e) => e.loss);
    expect(losses.at(-1)!).toBeLessThan(losses[0]! / 3);
    expect(ok(await evaluate(r.model, { x, y }, r.classes)()).accuracy).toBeGreaterThan(0.9);
    r.model.dispose();
    x.dispose();
    model.dispose();
  });

  it('reports validation on a separate set each epoch', () =>
    withModel(denseModel, [8], async (model, x, y) => {
      const held = toyData([8], 9, 3, 99);
      const r = ok(await transfer(ok(fromLayersModel(model)), featureExtractor, { x, y }, { ...quick, epochs: 2, validation: { data: held } })());
      expect(r.history[0]!.epochs.map((e) => typeof e.validationAccuracy)).toEqual(['number', 'number']);
      r.model.dispose();
      held.x.dispose();
    }));

  it('predictions are probabilities, one row per example', () =>
    withModel(denseModel, [8], async (model, x, y) => {
      const r = ok(await transfer(ok(fromLayersModel(model)), featureExtractor, { x, y }, quick)());
      const p = ok(await r.model.predict(x)());
      expect([p.rows, p.cols]).toEqual([24, 3]);
      for (let i = 0; i < p.rows; i++) expect(p.data.subarray(i * 3, i * 3 + 3).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
      // A test set may lack a class; only training data must have every class.
      const few = tf.slice(x, [0, 0], [3, 8]);
      expect(ok(await evaluate(r.model, { x: few, y: [0, 0, 0] }, 3)()).count).toBe(3);
      few.dispose();
      const wrong = tf.zeros([2, 5]);
      expect(E.isLeft(await r.model.predict(wrong)())).toBe(true);
      wrong.dispose();
      r.model.dispose();
    }));
});
