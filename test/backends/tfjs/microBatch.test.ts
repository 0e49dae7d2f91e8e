/**
 * Memory-safe steps: a batch whose activations would not fit the step's memory trains as several
 * passes (micro-batches) whose gradients add up to the batch's, so a recipe ends with the weights
 * it gets from whole batches (to float rounding) and reports the micro-batch; a step whose one
 * example would not fit is refused before anything trains; the plan's own checks.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { fineTunePhase, fromScratch, fullFineTune, headPhase, makeRecipe, partialFineTune, transfer, type Phase, type Recipe } from 'transferkit';
import { fromLayersModel, type TfjsBackbone } from 'transferkit/tfjs';
import { planStep, stepBudget, STEP_BYTES_MARGIN, STEP_BYTES_PER_OUTPUT_BYTE, STEP_BYTES_PER_OUTPUT_BYTE_TRAINING_MODE } from '../../../src/backends/tfjs/memory';
import { accumulatePasses, sumPasses } from '../../../src/backends/tfjs/session/steps';
import { err, ok } from '../../fixtures/either';
import { mobileNetLike, snapshot, toyData } from '../../fixtures/models';
import { expectClose, expectNoLeakedTensors } from '../../fixtures/tensors';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
expectNoLeakedTensors();

const { minSteps: _h, ...head } = headPhase;
const { minSteps: _f, ...fine } = fineTunePhase({ kind: 'all' });
/** The head, then everything, 2 epochs each with SGD (whose update is linear in the gradient), L2 on. */
const sgdRecipe: Recipe = ok(
  makeRecipe({
    tap: { kind: 'top' },
    phases: [
      { ...head, epochs: 2, optimizer: 'sgd', learningRate: 0.05 },
      { ...fine, epochs: 2, optimizer: 'sgd', learningRate: 0.01 },
    ],
  }),
);

/** The bytes `examples` examples of a step of `phase` are estimated to need, read from a model built as `transfer` builds it. */
const bytesFor = async (backbone: TfjsBackbone, phase: Phase, examples: number, start: 'pretrained' | 'random' = 'pretrained'): Promise<number> => {
  const model = ok(await backbone.build({ tap: backbone.layers[backbone.top]!, head: { hidden: [], dropout: 0 }, classes: 3, pooling: 'average', start, seed: 1 })());
  try {
    return examples * ok(model.planPhase(phase, 8, Number.MAX_VALUE)).bytesPerExample;
  } finally {
    model.dispose();
  }
};

describe('micro-batches', () => {
  it('give the weights, losses and validation scores of whole batches (SGD, to float rounding), and say so in the history', async () => {
    const source = mobileNetLike(3);
    const backbone = ok(fromLayersModel(source));
    const { x, y } = toyData([8, 8, 3], 30, 3);
    const { x: vx, y: vy } = toyData([8, 8, 3], 11, 3, 5);
    try {
      const before = snapshot(source);
      const options = { seed: 1, batchSize: 8, validation: { data: { x: vx, y: vy } } };
      const memoryBytes = await bytesFor(backbone, sgdRecipe.phases[1]!, 3);
      const whole = ok(await transfer(backbone, sgdRecipe, { x, y }, options)());
      const split = ok(await transfer(backbone, sgdRecipe, { x, y }, { ...options, memoryBytes })());
      // The head alone fits whole; the fine-tune of everything runs 3 examples a pass (8 = 3 + 3 + 2).
      expect(whole.history.map((h) => h.microBatch)).toEqual([8, 8]);
      expect(split.history.map((h) => h.microBatch)).toEqual([8, 3]);
      const a = ok(whole.model.weights());
      const b = ok(split.model.weights());
      expect([...b.keys()]).toEqual([...a.keys()]);
      for (const [key, values] of a) expectClose(b.get(key)!, values, 1e-6);
      split.history.forEach((phase, p) =>
        phase.epochs.forEach((e, k) => {
          const w = whole.history[p]!.epochs[k]!;
          expect(e.loss).toBeCloseTo(w.loss, 5);
          expect(e.validationLoss!).toBeCloseTo(w.validationLoss!, 5);
          expect(e.validationAccuracy).toBe(w.validationAccuracy);
        }),
      );
      whole.model.dispose();
      split.model.dispose();
      expect(snapshot(source)).toEqual(before);
    } finally {
      tf.dispose([x, vx]);
      source.dispose();
    }
  });

  it.each([
    ['partial fine-tune', partialFineTune],
    ['full fine-tune', fullFineTune],
  ] as const)('%s (Adam): the same weights to 1e-4 of their scale over its steps', async (_, recipe) => {
    const source = mobileNetLike(4);
    const backbone = ok(fromLayersModel(source));
    const { x, y } = toyData([8, 8, 3], 24, 3);
    try {
      const options = { seed: 2, batchSize: 8, phases: { head: { steps: 20 }, 'fine-tune': { steps: 15 } } };
      const memoryBytes = await bytesFor(backbone, recipe.phases[1]!, 2);
      const whole = ok(await transfer(backbone, recipe, { x, y }, options)());
      const split = ok(await transfer(backbone, recipe, { x, y }, { ...options, memoryBytes })());
      expect(split.history.map((h) => h.microBatch)).toEqual([8, 2]);
      const a = ok(whole.model.weights());
      const b = ok(split.model.weights());
      for (const [key, values] of a) expectClose(b.get(key)!, values, 1e-4);
      whole.model.dispose();
      split.model.dispose();
    } finally {
      x.dispose();
      source.dispose();
    }
  });

  it('train a model from scratch too, each pass normalising by its own batch statistics', async () => {
    const source = mobileNetLike(5);
    const backbone = ok(fromLayersModel(source));
    const { x, y } = toyData([8, 8, 3], 24, 3);
    try {
      const memoryBytes = await bytesFor(backbone, fromScratch.phases[0]!, 4, 'random');
      const result = ok(await transfer(backbone, fromScratch, { x, y }, { seed: 1, batchSize: 8, epochs: 2, memoryBytes })());
      expect(result.history[0]!.microBatch).toBe(4);
      expect(result.history[0]!.epochs.every((e) => Number.isFinite(e.loss))).toBe(true);
      const probabilities = ok(await result.model.predict(x)());
      expect(probabilities.data.every(Number.isFinite)).toBe(true);
      result.model.dispose();
    } finally {
      x.dispose();
      source.dispose();
    }
  });
});

describe('a step that cannot fit', () => {
  it('is refused before anything trains, naming the phase, what one example needs and what would fit', async () => {
    const source = mobileNetLike(6);
    const backbone = ok(fromLayersModel(source));
    const { x, y } = toyData([8, 8, 3], 12, 3);
    try {
      const perExample = await bytesFor(backbone, fullFineTune.phases[1]!, 1);
      let progressed = 0;
      const e = err(await transfer(backbone, fullFineTune, { x, y }, { memoryBytes: perExample / 2, onProgress: () => void progressed++ })());
      expect(e).toMatchObject({ _tag: 'NotSupported', path: 'phase fine-tune' });
      expect(e.expected).toMatch(/partial fine-tune/);
      expect(e.received).toMatch(/per example/);
      expect(progressed).toBe(0);
      // The head alone fits in that budget: a head-only recipe still runs, whole batches.
      const head = ok(await transfer(backbone, makeRecipeOrThrow(), { x, y }, { memoryBytes: perExample / 2, epochs: 1, batchSize: 4 })());
      expect(head.history[0]!.microBatch).toBe(4);
      head.model.dispose();
    } finally {
      x.dispose();
      source.dispose();
    }
  });

  it('memoryBytes and planPhase take only what they can use', async () => {
    const source = mobileNetLike(7);
    const backbone = ok(fromLayersModel(source));
    const { x, y } = toyData([8, 8, 3], 6, 3);
    try {
      for (const bad of [0, -1, Number.NaN, '1e9', null]) {
        expect(err(await transfer(backbone, fullFineTune, { x, y }, { memoryBytes: bad as never })())).toMatchObject({ _tag: 'InvalidArgument', path: 'options.memoryBytes' });
      }
      const model = ok(await backbone.build({ tap: backbone.layers[backbone.top]!, head: { hidden: [], dropout: 0 }, classes: 3, pooling: 'average', start: 'pretrained', seed: 1 })());
      const phase = fullFineTune.phases[1]!;
      expect(err(model.planPhase(phase, 0))).toMatchObject({ _tag: 'InvalidArgument', path: 'batchSize' });
      expect(err(model.planPhase(phase, 4, -5))).toMatchObject({ _tag: 'InvalidArgument', path: 'memoryBytes' });
      expect(err(model.planPhase(null as never, 4))).toMatchObject({ _tag: 'InvalidArgument', path: 'phase' });
      // On cpu no limit is known: the whole batch, however large.
      expect(ok(model.planPhase(phase, 4096))).toMatchObject({ microBatch: 4096, budgetBytes: undefined });
      model.dispose();
      expect(err(model.planPhase(phase, 4))).toMatchObject({ _tag: 'InvalidArgument', received: 'a disposed transfer model' });
    } finally {
      x.dispose();
      source.dispose();
    }
  });
});

describe('passes', () => {
  it('add up the gradients, losses and counts of passes of at most the micro-batch, freeing each pass', () => {
    const seen: Array<[number, number, number]> = [];
    const total = accumulatePasses(7, 3, (start, end, k) => {
      seen.push([start, end, k]);
      return { grads: { w: tf.fill([2], end - start) }, lossSum: end - start, correct: 1 };
    });
    expect(seen).toEqual([
      [0, 3, 0],
      [3, 6, 1],
      [6, 7, 2],
    ]);
    expect([...total.grads['w']!.dataSync()]).toEqual([7, 7]);
    expect([total.lossSum, total.correct]).toEqual([7, 3]);
    tf.dispose(Object.values(total.grads));
    expect(sumPasses(5, 2, (start, end) => ({ lossSum: end - start, correct: start }))).toEqual({ lossSum: 5, correct: 6 });
  });

  it('free what they made when a pass fails', () => {
    expect(() =>
      accumulatePasses(6, 2, (start) => {
        if (start === 4) throw new Error('third pass');
        return { grads: { w: tf.ones([3]) }, lossSum: 0, correct: 0 };
      }),
    ).toThrow('third pass');
  });
});

describe('the plan', () => {
  it('fits as many examples as the budget holds, at most the batch', () => {
    expect(ok(planStep('p', 100, 1_050, 32)).microBatch).toBe(10);
    expect(ok(planStep('p', 100, 1e9, 32)).microBatch).toBe(32);
    expect(ok(planStep('p', 100, undefined, 32)).microBatch).toBe(32);
    expect(err(planStep('p', 100, 99, 32))).toMatchObject({ _tag: 'NotSupported', path: 'phase p' });
  });

  it('takes a given budget as it is, and sets none on the cpu backend', () => {
    expect(stepBudget(123)).toBe(123);
    expect(stepBudget(undefined)).toBeUndefined();
  });

  it('covers every step measured in docs/results/step-memory.json with its margin', () => {
    const { rows } = JSON.parse(readFileSync(new URL('../../../docs/results/step-memory.json', import.meta.url), 'utf8')) as { rows: Array<{ model: string; step: string; ratio: number }> };
    expect(new Set(rows.map((r) => r.model)).size).toBeGreaterThanOrEqual(5);
    for (const r of rows) {
      const constant = r.step.includes('scratch') ? STEP_BYTES_PER_OUTPUT_BYTE_TRAINING_MODE : STEP_BYTES_PER_OUTPUT_BYTE;
      expect(r.ratio * STEP_BYTES_MARGIN, `${r.model}, ${r.step}`).toBeLessThanOrEqual(constant + 1e-9);
    }
  });
});

/** The head alone, one phase. */
function makeRecipeOrThrow(): Recipe {
  return ok(makeRecipe({ tap: { kind: 'top' }, phases: [head] }));
}
