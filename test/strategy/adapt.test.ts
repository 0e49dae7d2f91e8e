/**
 * `adapt` and `autoAdapt` on the CPU backend, on a small dense source with BatchNorm and its
 * classifier: what each method changes and what it must leave alone, the source untouched, the same
 * seed giving the same model, abort, and every bad input as a typed Left.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { either as E } from 'fp-ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adapt, ADAPT_METHODS, autoAdapt, coralMap, evaluate, pickAdaptation, type AdaptMethod } from 'transferkit';
import { fromLayersModel, type TfjsBackbone, type TfjsTransferModel } from 'transferkit/tfjs';
import { err, ok } from '../fixtures/either';
import { denseModel, snapshot } from '../fixtures/models';
import { expectClose, expectNoLeakedTensors } from '../fixtures/tensors';

let source: tfl.LayersModel;
let backbone: TfjsBackbone;
let before: Map<string, Float32Array>;
/** Source inputs and the source's own labels for them; target inputs: the same distribution scaled and moved. */
let sx: tf.Tensor2D;
let sy: Int32Array;
let tx: tf.Tensor2D;

beforeAll(async () => {
  await tf.setBackend('cpu');
  source = denseModel(3);
  backbone = ok(fromLayersModel(source, { top: 'd2' }));
  sx = tf.randomNormal([96, 8], 0, 1, 'float32', 11) as tf.Tensor2D;
  sy = Int32Array.from(tf.tidy(() => tf.argMax(source.predict(sx) as tf.Tensor, 1).dataSync()));
  tx = tf.tidy(() => tf.add(tf.mul(tf.randomNormal([80, 8], 0, 1, 'float32', 12), 2.5), 1.5)) as tf.Tensor2D;
  before = snapshot(source);
});

afterAll(() => {
  tf.dispose([sx, tx]);
  source.dispose();
});

expectNoLeakedTensors();

const data = () => ({ target: { x: tx }, source: { x: sx, y: sy } });
const run = async (method: AdaptMethod, options: Parameters<typeof adapt>[3] = {}) => ok(await adapt(backbone, method, data(), { batchSize: 16, steps: 6, seed: 1, ...options })());
const weightsOf = (model: TfjsTransferModel): ReadonlyMap<string, Float32Array> => ok(model.weights());
const changed = (model: TfjsTransferModel): string[] => {
  const start = weightsOf(model);
  return [...start].filter(([k, v]) => {
    const was = before.get(k.replace(/^transferkit_head_output/, 'classifier'));
    return was === undefined || was.some((x, i) => x !== v[i]);
  }).map(([k]) => k);
};

describe('adapt', () => {
  it.each(ADAPT_METHODS)('%s runs on cpu, leaves the source bit-identical and leaks nothing', async (method) => {
    const result = await run(method);
    expect(result.method).toBe(method);
    expect(result.classes).toBe(3);
    const p = ok(await result.model.predict(tx)());
    expect(p.data.every(Number.isFinite)).toBe(true);
    result.model.dispose();
    expect(snapshot(source)).toEqual(before);
  });

  it('source-only is the source model: the same predictions, every weight the source\'s', async () => {
    const result = await run('source-only');
    const p = ok(await result.model.predict(tx)());
    const expected = tf.tidy(() => (source.predict(tx) as tf.Tensor).dataSync());
    expectClose(p.data, expected, 1e-5);
    expect(changed(result.model)).toEqual([]);
    result.model.dispose();
  });

  it("AdaBN changes only BatchNorm's moving statistics, to the mean and variance of its inputs over the target", async () => {
    const result = await run('adabn');
    expect(result.batchNormsReestimated).toBe(1);
    expect(changed(result.model).sort()).toEqual(['bn1/moving_mean', 'bn1/moving_variance']);
    const below = tfl.model({ inputs: source.inputs, outputs: source.getLayer('d1').output as tfl.SymbolicTensor });
    const { mean, variance } = tf.tidy(() => {
      const m = tf.moments(below.predict(tx) as tf.Tensor, 0);
      return { mean: m.mean.dataSync(), variance: m.variance.dataSync() };
    });
    const w = weightsOf(result.model);
    expectClose(w.get('bn1/moving_mean')!, mean, 1e-4);
    expectClose(w.get('bn1/moving_variance')!, variance, 1e-4);
    result.model.dispose();
  });

  it("TENT trains BatchNorm's scale and offset alone (and re-estimates its statistics): no kernel moves", async () => {
    const result = await run('tent');
    expect(result.steps).toBe(6);
    expect(changed(result.model).sort()).toEqual(['bn1/beta', 'bn1/gamma', 'bn1/moving_mean', 'bn1/moving_variance']);
    result.model.dispose();
  });

  it("CORAL folds the map of the target's features into the source's classifier: the model predicts softmax((f·A + c)·K + b)", async () => {
    const result = await run('coral');
    const top = tfl.model({ inputs: source.inputs, outputs: source.getLayer('d2').output as tfl.SymbolicTensor });
    const f = (x: tf.Tensor) => tf.tidy(() => ({ rows: x.shape[0]!, cols: 12, data: (top.predict(x) as tf.Tensor).dataSync() as Float32Array }));
    const map = ok(coralMap(f(sx), f(tx)));
    const expected = tf.tidy(() => {
      const mapped = tf.add(tf.matMul(top.predict(tx) as tf.Tensor2D, tf.tensor2d(map.map.data, [12, 12])), tf.tensor1d(map.shift));
      return (source.getLayer('classifier').apply(mapped) as tf.Tensor).dataSync();
    });
    expectClose(ok(await result.model.predict(tx)()).data, expected, 1e-4);
    expect(changed(result.model).sort()).toEqual(['transferkit_head_output/bias', 'transferkit_head_output/kernel']);
    result.model.dispose();
  });

  it('importance weighting retrains only the classifier; self-training keeps its counts per round', async () => {
    const weighted = await run('importance-weighting');
    expect(changed(weighted.model).sort()).toEqual(['transferkit_head_output/bias', 'transferkit_head_output/kernel']);
    expect(weighted.effectiveSourceSize).toBeGreaterThan(1);
    expect(weighted.effectiveSourceSize).toBeLessThanOrEqual(96);
    weighted.model.dispose();
    const selfTrained = await run('pseudo-label');
    expect(selfTrained.pseudoLabelled).toHaveLength(3);
    expect(selfTrained.pseudoLabelled!.every((n) => n > 0 && n <= 80)).toBe(true);
    selfTrained.model.dispose();
  });

  it.each(['dann', 'pseudo-label'] as const)('%s: the same seed gives the same model, another seed another', async (method) => {
    const predict = async (seed: number) => {
      const r = await run(method, { seed });
      const p = ok(await r.model.predict(tx)()).data;
      r.model.dispose();
      return p;
    };
    const [a, b, c] = [await predict(1), await predict(1), await predict(2)];
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it("self-training starts from the method `from` names, with that method's needs", async () => {
    const fromCoral = await run('pseudo-label', { from: 'coral' });
    expect(fromCoral.from).toBe('coral');
    expect(fromCoral.pseudoLabelled).toHaveLength(3);
    fromCoral.model.dispose();
    expect(err(await adapt(backbone, 'pseudo-label', { target: { x: tx } }, { from: 'dann' })()).message).toMatch(/source data/);
    expect(err(await adapt(backbone, 'adabn', { target: { x: tx } }, { from: 'coral' })())._tag).toBe('InvalidArgument');
    expect(err(await adapt(backbone, 'pseudo-label', { target: { x: tx } }, { from: 'pseudo-label' })())._tag).toBe('InvalidArgument');
  });

  it('reports progress after every step, and an abort ends it with Aborted, nothing left behind', async () => {
    const seen: number[] = [];
    const r = await run('dann', { onProgress: (p) => seen.push(p.step) });
    r.model.dispose();
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
    const controller = new AbortController();
    const stopped = await adapt(backbone, 'deep-coral', data(), { batchSize: 16, steps: 50, onProgress: (p) => p.step === 3 && controller.abort(), signal: controller.signal })();
    expect(err(stopped)._tag).toBe('Aborted');
  });

  it('bad input is a typed Left that says what is needed', async () => {
    const wrongSpace = tf.zeros([4, 5]);
    const empty = tf.zeros([0, 8]);
    const one = tf.zeros([1, 8]);
    try {
      const cases: Array<[Promise<E.Either<unknown, unknown>>, string, RegExp]> = [
        [adapt(backbone, 'nope' as AdaptMethod, data())(), 'InvalidArgument', /source-only/],
        [adapt(backbone, 'adabn', { target: { x: wrongSpace } })(), 'ShapeMismatch', /8/],
        [adapt(backbone, 'dann', { target: { x: tx } })(), 'InvalidArgument', /source data/],
        [adapt(backbone, 'mmd', { target: { x: tx }, source: { x: sx } })(), 'InvalidArgument', /labels/],
        [adapt(backbone, 'adabn', { target: { x: empty } })(), 'InvalidArgument', /./],
        [adapt(backbone, 'adabn', { target: { x: one } })(), 'InvalidArgument', /at least 2/],
        [adapt(backbone, 'pseudo-label', { target: { x: one } })(), 'InvalidArgument', /at least 3/],
        [adapt(backbone, 'tent', { target: { x: tx } }, { steps: 0 })(), 'InvalidArgument', /positive integer/],
      ];
      for (const [pending, tag, message] of cases) {
        const left = err((await pending) as E.Either<never, unknown>);
        expect(left._tag).toBe(tag);
        expect(left.message).toMatch(message);
      }
    } finally {
      tf.dispose([wrongSpace, empty, one]);
    }
  });

  it('a BatchNorm method on a backbone without BatchNorm is NotSupported, naming the methods that apply', async () => {
    const plain = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [8], units: 6, activation: 'relu', name: 'h' }), tfl.layers.dense({ units: 3, activation: 'softmax', name: 'out' })] });
    try {
      const b = ok(fromLayersModel(plain, { top: 'h' }));
      const left = err(await adapt(b, 'tent', { target: { x: tx } })());
      expect(left._tag).toBe('NotSupported');
      expect(left.message).toMatch(/'coral'/);
      const fine = ok(await adapt(b, 'pseudo-label', { target: { x: tx } }, { steps: 3, batchSize: 16 })());
      expect(fine.batchNormsReestimated).toBe(0);
      fine.model.dispose();
    } finally {
      plain.dispose();
    }
  });
});

describe('autoAdapt and pickAdaptation', () => {
  it('scores every applicable method, keeps one, disposes the rest', async () => {
    const result = ok(await autoAdapt(backbone, data(), { batchSize: 16, steps: 4, seed: 1 })());
    const rows = ok(await result.model.predict(tx)()).rows;
    result.model.dispose();
    // Self-training is not a candidate: it comes after the choice, on the chosen model.
    expect(result.candidates.map((c) => c.method)).toEqual(ADAPT_METHODS.filter((m) => m !== 'pseudo-label'));
    expect(result.candidates.every((c) => Number.isFinite(c.score))).toBe(true);
    expect(result.validator).toBe('prediction-information');
    expect(result.selfTrained).toBe(result.method !== 'source-only');
    expect(rows).toBe(80);
  });

  it('with a few labelled target examples, scores by their accuracy; a huge margin keeps source-only', async () => {
    const y = Int32Array.from(tf.tidy(() => tf.argMax(source.predict(tx) as tf.Tensor, 1).dataSync()));
    const labelled = ok(await autoAdapt(backbone, { target: { x: tx } }, { methods: ['adabn'], labelledTarget: { x: tx, y }, batchSize: 16 })());
    expect(labelled.validator).toBe('labelled-target-accuracy');
    // The labels are the source's own predictions, so source-only scores 1 and nothing beats it.
    expect(labelled.method).toBe('source-only');
    labelled.model.dispose();
    const guarded = ok(await autoAdapt(backbone, { target: { x: tx } }, { methods: ['adabn'], margin: 1e6, batchSize: 16 })());
    expect(guarded.method).toBe('source-only');
    // Where AdaBN scored higher, it was the guard that kept the source model, and it says so.
    const [sourceOnly, adabn] = guarded.candidates.map((c) => c.score);
    expect(guarded.guarded).toBe(adabn! > sourceOnly!);
    if (guarded.guarded) expect(guarded.reason).toMatch(/guard/);
    guarded.model.dispose();
    expect(err(await autoAdapt(backbone, { target: { x: tx } }, { methods: ['dann'] })())._tag).toBe('InvalidArgument');
  });

  it('with labelled target examples, keeps the self-trained model only if it scores higher on them', async () => {
    // Labels that CORAL's model predicts exactly: it scores 1 and is chosen, and self-training
    // from it cannot score higher, so the CORAL model itself is what comes back.
    const coral = await run('coral');
    const y = Int32Array.from(ok(await coral.model.predict(tx)()).data.reduce<number[]>((ids, _, i, p) => (i % 3 === 0 ? [...ids, [0, 1, 2].reduce((b, k) => (p[i + k]! > p[i + b]! ? k : b), 0)] : ids), []));
    coral.model.dispose();
    const result = ok(await autoAdapt(backbone, data(), { methods: ['coral', 'pseudo-label'], labelledTarget: { x: tx, y }, batchSize: 16, steps: 3 })());
    const accuracy = ok(await evaluate(result.model, { x: tx, y }, 3)()).accuracy;
    result.model.dispose();
    expect(result.method).toBe('coral');
    expect(result.selfTrained).toBe(false);
    expect(result.reason).toMatch(/not kept/);
    expect(accuracy).toBe(1);
  });

  it('picks the best score, the cheaper on a tie, and guards source-only', () => {
    expect(ok(pickAdaptation([{ method: 'source-only', score: 0.1 }, { method: 'tent', score: 0.5 }, { method: 'adabn', score: 0.5 }], 0.05))).toMatchObject({ method: 'adabn', guarded: false });
    expect(ok(pickAdaptation([{ method: 'source-only', score: 0.48 }, { method: 'tent', score: 0.5 }], 0.05))).toMatchObject({ method: 'source-only', guarded: true });
    expect(ok(pickAdaptation([{ method: 'source-only', score: 0.6 }, { method: 'tent', score: 0.5 }], 0))).toMatchObject({ method: 'source-only', guarded: false });
    expect(err(pickAdaptation([{ method: 'tent', score: 0.5 }], 0))._tag).toBe('InvalidArgument');
    expect(err(pickAdaptation([{ method: 'source-only', score: Number.NaN }], 0))._tag).toBe('InvalidArgument');
    expect(err(pickAdaptation([{ method: 'source-only', score: 1 }], -1))._tag).toBe('InvalidArgument');
  });
});
