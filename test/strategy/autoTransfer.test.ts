/**
 * `autoTransfer`, the budgeted validation race, on the CPU backend with a small dense source: it
 * returns a model trained on all the data with a report of every candidate, keeps to its budget,
 * gives the same race for the same seed, leaves the source untouched and leaks nothing, and turns
 * every bad input into a typed Left that names what would do. Its parts (folds, the budget plan,
 * the paired spread) are checked on their own.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type * as tfl from '@tensorflow/tfjs-layers';
import { either as E } from 'fp-ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { autoTransfer, measureTransferGain, PROBE_EVERY_FOLD_BELOW, PROBE_FRACTION, earlierLayerTap, featureExtractor, fromScratch, fullFineTune, headPhase, makeRecipe, selectStrategy, type Recipe } from 'transferkit';
import { fromLayersModel, type TfjsBackbone } from 'transferkit/tfjs';
import { FINAL_FRACTIONS, leastToRaceTwo, MIN_RUNG_FRACTION, planCost, planRace, retrainFraction, rungsFor } from '../../src/strategy/race/budget';
import { recipeCost } from '../../src/strategy/race/cost';
import { stratifiedFolds } from '../../src/strategy/race/folds';
import { similarityInterval } from '../../src/strategy/race/interval';
import { pairedSpread, type Racer } from '../../src/strategy/race/race';
import { err, ok } from '../fixtures/either';
import { denseModel, snapshot, toyData } from '../fixtures/models';
import { expectNoLeakedTensors } from '../fixtures/tensors';

let source: tfl.LayersModel;
let backbone: TfjsBackbone;
let before: Map<string, Float32Array>;
let x: tf.Tensor;
let y: number[];

/** Cheap candidates: a head of 40 steps, and a fine-tune after it of 20. */
const quick = (recipe: Recipe): Recipe =>
  ok(makeRecipe({ ...recipe, phases: recipe.phases.map((p) => ({ ...p, epochs: 1, minSteps: p.name === 'head' ? 40 : 20 })) }));
const CANDIDATES = [quick(fullFineTune), quick(earlierLayerTap), quick(fromScratch), quick(featureExtractor)];

beforeAll(async () => {
  await tf.setBackend('cpu');
  source = denseModel(3);
  backbone = ok(fromLayersModel(source, { top: 'd2' }));
  ({ x, y } = toyData([8], 60, 3, 5));
  before = snapshot(source);
});

afterAll(() => {
  x.dispose();
  source.dispose();
});

expectNoLeakedTensors();

describe('autoTransfer', () => {
  it('races the candidates, retrains the winner on all the data, reports every candidate, and leaves the source as it was', async () => {
    const progress = new Set<string>();
    const result = ok(await autoTransfer(backbone, { x, y }, { candidates: CANDIDATES, budget: 4, seed: 1, batchSize: 16, onProgress: (p) => progress.add(`${p.candidate}@${p.rung}`) })());
    const { race } = result;
    expect(race.entries.map((e) => e.name)).toEqual(['full-fine-tune', 'earlier-layer-tap', 'from-scratch', 'feature-extractor']);
    expect(race.entries.filter((e) => e.stop === 'won').map((e) => e.name)).toEqual([race.winner]);
    expect(result.recipe.kind).toBe(race.winner);
    for (const e of race.entries.filter((e) => e.stop !== 'not-run')) {
      expect(e.runs.length).toBeGreaterThan(0);
      for (const run of e.runs) {
        expect(run.accuracy).toBeGreaterThanOrEqual(0);
        expect(run.accuracy).toBeLessThanOrEqual(1);
        expect(run.scored).toBeGreaterThan(0);
      }
      expect(Number.isFinite(e.spread)).toBe(true);
    }
    // Successive halving: every rung's fraction twice the last's, and fewer racers at each.
    race.fractions.slice(1).forEach((f, i) => expect(f).toBe(2 * race.fractions[i]!));
    const perRung = race.fractions.map((_, r) => race.entries.filter((e) => e.runs.some((run) => run.rung === r)).length);
    perRung.slice(1).forEach((n, i) => expect(n).toBeLessThan(perRung[i]!));
    expect(race.budget.planned).toBeLessThanOrEqual(race.budget.given);
    expect(race.retrainFraction).toBeGreaterThanOrEqual(race.fractions.at(-1)!);
    expect(progress.has(`${race.winner}@retrain`)).toBe(true);
    expect(progress.has('full-fine-tune@0')).toBe(true);
    const p = ok(await result.model.predict(x)());
    expect(p.rows).toBe(60);
    expect(p.data.every(Number.isFinite)).toBe(true);
    result.model.dispose();
    expect(snapshot(source)).toEqual(before);
  });

  it('the same seed runs the same race; another seed splits the folds differently', async () => {
    const race = async (seed: number) => {
      const r = ok(await autoTransfer(backbone, { x, y }, { candidates: CANDIDATES.slice(0, 2), budget: 4, seed, batchSize: 16 })());
      r.model.dispose();
      return r.race.entries.map((e) => e.runs.map((run) => run.accuracy));
    };
    const [a, b, c] = [await race(3), await race(3), await race(4)];
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it("races the selector's pick first when given it, and the prior order without", async () => {
    const pick = ok(selectStrategy({ size: 60, similarity: 0.05, classes: 3 }));
    expect(pick.kind).toBe('from-scratch');
    // A fixed price for a step from random weights: the order, not the timing, is under test.
    const shortlist = async (prior?: Recipe) => {
      const r = ok(await autoTransfer(backbone, { x, y }, { seed: 1, batchSize: 16, randomStartCost: 1.5, ...(prior === undefined ? {} : { prior }) })());
      r.model.dispose();
      return r.race.entries.map((e) => e.name);
    };
    expect(await shortlist(pick)).toEqual(['from-scratch', 'full-fine-tune', 'earlier-layer-tap', 'partial-fine-tune', 'feature-extractor']);
    expect(await shortlist()).toEqual(['full-fine-tune', 'from-scratch', 'earlier-layer-tap', 'partial-fine-tune', 'feature-extractor']);
  });

  it('on a backbone that cannot fine-tune, races the frozen heads and says why the others did not run', async () => {
    const frozen = { ...backbone, capabilities: { ...backbone.capabilities, fineTune: false, description: 'a frozen graph' } } as TfjsBackbone;
    const r = ok(await autoTransfer(frozen, { x, y }, { seed: 1, batchSize: 16, budget: 4 })());
    const ran = r.race.entries.filter((e) => e.stop !== 'not-run').map((e) => e.name);
    expect(ran.length).toBeGreaterThan(0);
    for (const name of ran) expect(['earlier-layer-tap', 'feature-extractor']).toContain(name);
    const skipped = r.race.entries.filter((e) => e.reason.includes('cannot fine-tune')).map((e) => e.name);
    expect(skipped.sort()).toEqual(['from-scratch', 'full-fine-tune', 'partial-fine-tune']);
    expect(r.recipe.trainable.kind).toBe('head-only');
    r.model.dispose();
  });

  it('works on 5 examples per class: each rung trains on a fold of its own, and the note says what the spread means there', async () => {
    const small = toyData([8], 15, 3, 9);
    const r = ok(await autoTransfer(backbone, small, { candidates: CANDIDATES.slice(0, 2), budget: 4, seed: 1, batchSize: 8 })());
    expect(r.race.note).toMatch(/only \d+–\d+ examples \(3 classes\)/);
    for (const e of r.race.entries) {
      expect(e.runs.length).toBeGreaterThan(0);
      // One run a rung, each on the next fold, each scored on that fold's 5 held-out rows.
      expect(e.runs.map((run) => run.rung)).toEqual(e.runs.map((_, i) => i));
      expect(e.runs.map((run) => run.fold)).toEqual(e.runs.map((_, i) => i % 3));
      for (const run of e.runs) expect(run.scored).toBe(5);
      expect(e.accuracy! * 5).toBeCloseTo(Math.round(e.accuracy! * 5), 9);
    }
    r.model.dispose();
    small.x.dispose();
  });

  it('answers bad input with a typed Left that names what would do', async () => {
    const run = (data: unknown, options: unknown) => autoTransfer(backbone, data as { x: tf.Tensor; y: number[] }, options as object)();
    for (const budget of [0, -1, Number.NaN, Infinity, '2']) expect(err(await run({ x, y }, { budget })).path).toBe('options.budget');
    for (const randomStartCost of [0, -1, Number.NaN, Infinity, '2']) expect(err(await run({ x, y }, { randomStartCost })).path).toBe('options.randomStartCost');
    const tooSmall = err(await run({ x, y }, { budget: 0.001 }));
    expect(tooSmall.path).toBe('options.budget');
    expect(tooSmall.message).toMatch(/at least \d+\.\d+ full fine-tunes/);
    for (const folds of [1, 2.5, 'three']) expect(err(await run({ x, y }, { folds })).path).toBe('options.folds');
    expect(err(await run({ x, y }, { folds: 61 })).message).toMatch(/at most 60 folds/);
    expect(err(await run({ x, y }, { candidates: [] })).path).toBe('options.candidates');
    expect(err(await run({ x, y }, { candidates: [{ kind: 'magic' }] })).path).toBe('options.candidates');
    expect(err(await run({ x, y }, { prior: { kind: 'magic' } })).path).toBe('options.prior');
    expect(err(await run({ x, y }, { onProgress: 3 })).path).toBe('options.onProgress');
    // One example of class 2: it cannot be both trained on and validated on.
    const lonely = [...y.slice(0, 59).map((c) => (c === 2 ? 0 : c)), 2];
    const e = err(await run({ x, y: lonely }, {}));
    expect(e.path).toBe('data.y');
    expect(e.message).toMatch(/at least 2 labelled examples of every class/);
    expect(err(await run({ x, y: y.slice(1) }, {}))._tag).toBe('ShapeMismatch');
    expect(err(await run(null, {})).path).toBe('data');
    expect(err(await run({ x, y }, 'fast')).path).toBe('options');
  });

  it('times a step from random weights against a fine-tune step when a candidate needs it, and takes a given price as is', async () => {
    const race = async (candidates: Recipe[], price?: number) => {
      const r = ok(await autoTransfer(backbone, { x, y }, { candidates, budget: 6, seed: 1, batchSize: 16, ...(price === undefined ? {} : { randomStartCost: price }) })());
      r.model.dispose();
      return r.race;
    };
    const timed = await race([quick(fullFineTune), quick(fromScratch)]);
    expect(timed.randomStartCost.source).toBe('timed');
    // A timing can only raise the price above the cost model's prior of 1.5.
    expect(timed.randomStartCost.value).toBeGreaterThanOrEqual(1.5);
    expect(timed.randomStartCost.value).toBeLessThanOrEqual(20);
    expect(timed.ms.timing).toBeGreaterThan(0);
    const given = await race([quick(fullFineTune), quick(fromScratch)], 2);
    expect(given.randomStartCost).toEqual({ value: 2, source: 'given' });
    expect(given.ms.timing).toBe(0);
    // A dearer step from random weights makes from scratch dearer in the report, in proportion.
    const dearer = await race([quick(fullFineTune), quick(fromScratch)], 4);
    const scratchCost = (r: typeof given) => r.entries.find((e) => e.name === 'from-scratch')!.cost;
    expect(scratchCost(dearer) / scratchCost(given)).toBeCloseTo(2, 6);
    const none = await race([quick(fullFineTune), quick(featureExtractor)]);
    expect(none.randomStartCost.source).toBe('default');
    expect(none.ms.timing).toBe(0);
  });

  it('when the budget fits one candidate, trains it on all the data without a rung, and says what a race of two needs', async () => {
    const progress = new Set<string>();
    // The quick full fine-tune costs a twentieth of the preset's, the budget's unit; from scratch,
    // priced at 20 fine-tune steps a step, costs 0.75, so the two race only from a budget of 0.2.
    const r = ok(await autoTransfer(backbone, { x, y }, { candidates: [quick(fullFineTune), quick(fromScratch)], budget: 0.1, randomStartCost: 20, seed: 1, batchSize: 16, onProgress: (p) => progress.add(String(p.rung)) })());
    const { race } = r;
    expect(race.fractions).toEqual([]);
    expect(race.winner).toBe('full-fine-tune');
    expect(race.retrainFraction).toBe(1);
    const [alone, left] = race.entries;
    expect(alone).toMatchObject({ name: 'full-fine-tune', stop: 'won', runs: [] });
    expect(alone!.accuracy).toBeUndefined();
    expect(race.reason).toMatch(/racing from-scratch beside it needs at least \d+\.\d+/);
    expect(left).toMatchObject({ name: 'from-scratch', stop: 'not-run' });
    expect([...progress]).toEqual(['retrain']);
    expect(r.recipe.kind).toBe('full-fine-tune');
    r.model.dispose();
    const one = ok(await autoTransfer(backbone, { x, y }, { candidates: [quick(featureExtractor)], seed: 1, batchSize: 16 })());
    expect(one.race.fractions).toEqual([]);
    expect(one.race.reason).toMatch(/only candidate/);
    one.model.dispose();
    expect(snapshot(source)).toEqual(before);
  });

  it('stops on abort with Aborted and leaks nothing', async () => {
    const controller = new AbortController();
    let batches = 0;
    const r = await autoTransfer(backbone, { x, y }, {
      candidates: CANDIDATES.slice(0, 2),
      budget: 4,
      batchSize: 16,
      signal: controller.signal,
      onProgress: () => {
        if (++batches === 30) controller.abort();
      },
    })();
    expect(E.isLeft(r) && r.left._tag).toBe('Aborted');
  });
});

describe('measureTransferGain', () => {
  it('scores a short fine-tune of the source against the same architecture from random weights, on the same held-out rows', async () => {
    const gain = ok(await measureTransferGain(backbone, { x, y }, { seed: 2, batchSize: 16 })());
    expect(gain.fraction).toBe(PROBE_FRACTION);
    expect(gain.similarity).toBeGreaterThanOrEqual(0);
    expect(gain.similarity).toBeLessThanOrEqual(1);
    expect(gain.similarity).toBeCloseTo((1 + gain.pretrained.accuracy - gain.random.accuracy) / 2, 12);
    // Its interval is the one its two accuracies and the rows they were scored on give.
    expect(gain.interval).toEqual(similarityInterval(gain.pretrained.accuracy, gain.random.accuracy, gain.scored));
    expect(gain.interval.low).toBeLessThanOrEqual(gain.interval.high);
    for (const side of [gain.pretrained, gain.random]) {
      expect(side.accuracy).toBeGreaterThanOrEqual(0);
      expect(side.accuracy).toBeLessThanOrEqual(1);
      expect(Number.isFinite(side.loss) && side.loss > 0).toBe(true);
    }
    // 20 examples per class, below PROBE_EVERY_FOLD_BELOW: both train on each of the three folds in turn, and every row is scored once.
    expect(gain).toMatchObject({ folds: 3, scored: 60 });
    expect(ok(await measureTransferGain(backbone, { x, y }, { seed: 2, batchSize: 16 })())).toEqual({ ...gain, pretrained: { ...gain.pretrained, ms: expect.any(Number) }, random: { ...gain.random, ms: expect.any(Number) } });
    expect(snapshot(source)).toEqual(before);
  });

  it('from PROBE_EVERY_FOLD_BELOW examples per class on, reads the first fold alone', async () => {
    const larger = toyData([8], 3 * PROBE_EVERY_FOLD_BELOW, 3, 5);
    const gain = ok(await measureTransferGain(backbone, larger, { seed: 2, batchSize: 16 })());
    // Stratified thirds of 90 examples: the first fold holds 30 of them out.
    expect(gain).toMatchObject({ folds: 1, scored: 30 });
    larger.x.dispose();
  });

  it('on one fold scores its held-out third, and the every-fold reading pools the folds row by row', async () => {
    const one = ok(await measureTransferGain(backbone, { x, y }, { seed: 2, batchSize: 16, folds: 1 })());
    expect(one).toMatchObject({ folds: 1, scored: 20 });
    const all = ok(await measureTransferGain(backbone, { x, y }, { seed: 2, batchSize: 16, folds: 3 })());
    const two = ok(await measureTransferGain(backbone, { x, y }, { seed: 2, batchSize: 16, folds: 2 })());
    expect(two).toMatchObject({ folds: 2, scored: 40 });
    // Each reading is a count of rows right over the rows scored, and a reading on more folds adds
    // the next fold's rows to the same first ones: what it adds is a count over that fold's 20.
    const count = (acc: number, rows: number) => acc * rows;
    for (const [g, rows] of [[one, 20], [two, 40], [all, 60]] as const) {
      for (const side of [g.pretrained, g.random]) expect(count(side.accuracy, rows)).toBeCloseTo(Math.round(count(side.accuracy, rows)), 9);
    }
    for (const [more, fewer] of [[two, one], [all, two]] as const) {
      const added = count(more.pretrained.accuracy, more.scored) - count(fewer.pretrained.accuracy, fewer.scored);
      expect(added).toBeGreaterThanOrEqual(-1e-9);
      expect(added).toBeLessThanOrEqual(20 + 1e-9);
    }
    expect(all.similarity).toBeCloseTo((1 + all.pretrained.accuracy - all.random.accuracy) / 2, 12);
    for (const folds of [0, 4, 1.5, 'all']) expect(err(await measureTransferGain(backbone, { x, y }, { folds: folds as number })()).path).toBe('options.folds');
  });

  it('cannot measure one class, or a class of one example, and says what it needs', async () => {
    const one = err(await measureTransferGain(backbone, { x, y: y.map(() => 0) })());
    expect(one.message).toMatch(/at least 2 classes/);
    // Told there are two, it names the class with no example.
    expect(err(await measureTransferGain(backbone, { x, y: y.map(() => 0) }, { classes: 2 })()).message).toMatch(/class 1/);
    const lonely = err(await measureTransferGain(backbone, { x, y: [...y.slice(0, 59).map((c) => (c === 2 ? 0 : c)), 2] })());
    expect(lonely.message).toMatch(/at least 2 labelled examples of every class/);
    expect(err(await measureTransferGain(backbone, null as unknown as { x: tf.Tensor; y: number[] })()).path).toBe('data');
    for (const fraction of [0, 1.5, Number.NaN]) expect(err(await measureTransferGain(backbone, { x, y }, { fraction })()).path).toBe('options.fraction');
  });
});

describe('the race\'s parts', () => {
  it('stratified folds partition the rows, each holding every class in proportion', () => {
    const ids = Int32Array.from({ length: 31 }, (_, i) => (i < 10 ? 0 : i < 25 ? 1 : 2));
    const folds = ok(stratifiedFolds(ids, 3, 3, 7));
    const all = folds.flatMap((f) => [...f.validation]).sort((a, b) => a - b);
    expect(all).toEqual([...ids.keys()]);
    for (const f of folds) {
      expect(f.train.length + f.validation.length).toBe(31);
      expect(f.train.some((i) => f.validation.includes(i))).toBe(false);
      const count = (c: number) => [...f.validation].filter((i) => ids[i] === c).length;
      expect([3, 4]).toContain(count(0));
      expect(count(1)).toBe(5);
      expect([1, 2]).toContain(count(2));
    }
    expect(E.isLeft(stratifiedFolds(Int32Array.from([0, 0, 1]), 2, 2, 1))).toBe(true);
  });

  it('the budget plan keeps to its limit, prefers more candidates, and halves them at each rung', () => {
    const costs = [10, 4, 30, 6, 4];
    const run = (i: number, f: number) => costs[i]! * f;
    expect(rungsFor(1)).toBe(1);
    expect(rungsFor(2)).toBe(1);
    expect(rungsFor(5)).toBe(3);
    const wide = planCost(5, 1, run, run);
    // Rungs at 1/4, 1/2, 1: all five, the three, the two most expensive; then the dearest retrain.
    expect(wide.fractions).toEqual([0.25, 0.5, 1]);
    expect(wide.cost).toBeCloseTo(54 / 4 + (30 + 10 + 6) / 2 + (30 + 10) + 30);
    for (const limit of [5, 12, 25, 60, 200]) {
      const p = planRace(5, limit, run, run);
      if (p === undefined) continue;
      expect(p.cost).toBeLessThanOrEqual(limit);
      // No rung below an eighth of a schedule, and a race has at least two candidates.
      for (const f of p.fractions) expect(f).toBeGreaterThanOrEqual(MIN_RUNG_FRACTION);
      expect(p.fractions.length === 0).toBe(p.count === 1);
      // No allowed plan with more candidates fits.
      if (p.count < 5) {
        for (const f of FINAL_FRACTIONS) {
          const more = planCost(p.count + 1, f, run, run);
          if (more.fractions[0]! >= MIN_RUNG_FRACTION) expect(more.cost).toBeGreaterThan(limit);
        }
      }
    }
    expect(planRace(5, 1, run, run)).toBeUndefined();
    // When no two candidates fit at a quarter, two race at an eighth rather than one alone; three
    // would need a rung at a sixteenth, which is not allowed however cheap.
    const dear = [1, 6, 0.1];
    const runDear = (i: number, f: number) => dear[i]! * f;
    expect(planCost(2, 0.25, runDear, runDear).cost).toBeGreaterThan(2);
    expect(planCost(3, 0.125, runDear, runDear).cost).toBeLessThanOrEqual(2.5);
    const eighth = planRace(3, 2.5, runDear, runDear)!;
    expect(eighth).toMatchObject({ count: 2, fractions: [0.125] });
    expect(eighth.cost).toBeLessThanOrEqual(2.5);
    // Where two fit at a quarter, they race there.
    expect(planRace(3, 4, runDear, runDear)!.fractions.at(-1)).toBeGreaterThanOrEqual(0.25);
    // Where not even two fit at an eighth, the first trains alone with no rung, at as much of its
    // schedule as the budget pays for; the least budget for a race of two is what the eighth costs.
    expect(leastToRaceTwo(runDear, runDear)).toBeCloseTo(0.125 + 0.75 + 0.75);
    expect(planRace(3, 1.5, runDear, runDear)).toEqual({ count: 1, fractions: [], retrain: 1, cost: 1 });
    expect(planRace(3, 0.6, runDear, runDear)).toEqual({ count: 1, fractions: [], retrain: 0.5, cost: 0.5 });
    expect(planRace(3, 0.1, runDear, runDear)).toBeUndefined();
    expect(retrainFraction(100, 10, 0.25)).toBe(1);
    expect(retrainFraction(5, 10, 0.25)).toBe(0.5);
    expect(retrainFraction(1, 10, 0.25)).toBe(0.25);
  });

  it('costs: a fine-tune costs more than a frozen head, and half a schedule about half', () => {
    const head = recipeCost(featureExtractor, 100, 32, 1);
    const full = recipeCost(fullFineTune, 100, 32, 1);
    expect(full).toBeGreaterThan(head);
    expect(recipeCost(fullFineTune, 100, 32, 0.5)).toBeLessThan(0.6 * full);
    expect(recipeCost(ok(makeRecipe({ tap: { kind: 'top' }, phases: [headPhase] })), 100, 32, 1)).toBe(head);
  });

  it('the paired spread is small when two racers err on the same rows, whatever their accuracy', () => {
    const racer = (correct: number[]): Racer => ({ name: 'r', recipe: fullFineTune, cost: 1, runs: [{ rung: 0, fold: 0, fraction: 1, accuracy: correct.reduce((a, b) => a + b, 0) / correct.length, loss: 1, scored: correct.length, ms: 1 }], correct: Uint8Array.from(correct) });
    const a = racer([1, 1, 1, 1, 0, 0, 1, 1, 1, 0]);
    const same = racer([1, 1, 1, 1, 0, 0, 1, 1, 1, 0]);
    const different = racer([0, 0, 0, 1, 1, 1, 1, 0, 1, 1]);
    expect(pairedSpread(a, same)).toBeCloseTo(Math.sqrt(1 / 10 / 10));
    expect(pairedSpread(a, different)).toBeGreaterThan(pairedSpread(a, same));
  });
});
