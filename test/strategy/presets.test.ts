import { describe, expect, it } from 'vitest';
import { FINE_TUNE_LEARNING_RATE_FACTOR, fineTuneRateFactor, fromScratch, makeRecipe, PARTIAL_FINE_TUNE_LEARNING_RATE_FACTOR, presets, scratchPhase } from 'transferkit';
import { ok } from '../fixtures/either';

describe('presets', () => {
  it.each(Object.entries(presets))('%s is a valid recipe whose derived fields are its own', (kind, recipe) => {
    expect(recipe.kind).toBe(kind);
    expect(recipe.start).toBe('pretrained');
    expect(ok(makeRecipe(recipe))).toEqual(recipe);
    expect(recipe.phases[0]!.trains).toEqual({ kind: 'head-only' });
  });

  it('from scratch is the same recipe shape with a random start, one phase training everything', () => {
    expect(ok(makeRecipe(fromScratch))).toEqual(fromScratch);
    expect(fromScratch).toMatchObject({ kind: 'from-scratch', start: 'random', trainable: { kind: 'all' }, phases: [scratchPhase] });
    // A recipe without a start is a transfer recipe: the source's weights are the starting point.
    const { start: _omitted, ...legacy } = presets['full-fine-tune'];
    expect(ok(makeRecipe(legacy)).start).toBe('pretrained');
  });

  it('the fine-tune presets train at a lower learning rate after the head phase', () => {
    for (const recipe of [presets['partial-fine-tune'], presets['full-fine-tune']]) {
      expect(recipe.phases[1]!.learningRate).toBeLessThan(recipe.phases[0]!.learningRate);
    }
  });

  it('a partial fine-tune steps larger than a full one, at the measured multiples of the head rate', () => {
    const head = presets['full-fine-tune'].phases[0]!.learningRate;
    expect(presets['full-fine-tune'].phases[1]!.learningRate).toBeCloseTo(head * FINE_TUNE_LEARNING_RATE_FACTOR, 12);
    expect(presets['partial-fine-tune'].phases[1]!.learningRate).toBeCloseTo(head * PARTIAL_FINE_TUNE_LEARNING_RATE_FACTOR, 12);
    expect(PARTIAL_FINE_TUNE_LEARNING_RATE_FACTOR).toBeGreaterThan(FINE_TUNE_LEARNING_RATE_FACTOR);
    expect(fineTuneRateFactor({ kind: 'top-layers', count: 2 })).toBe(PARTIAL_FINE_TUNE_LEARNING_RATE_FACTOR);
    expect(fineTuneRateFactor({ kind: 'all' })).toBe(FINE_TUNE_LEARNING_RATE_FACTOR);
  });
});
