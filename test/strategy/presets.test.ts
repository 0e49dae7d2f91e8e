import { describe, expect, it } from 'vitest';
import { makeRecipe, presets } from 'transferkit';
import { ok } from '../fixtures/either';

describe('presets', () => {
  it.each(Object.entries(presets))('%s is a valid recipe whose derived fields are its own', (kind, recipe) => {
    expect(recipe.kind).toBe(kind);
    expect(ok(makeRecipe(recipe))).toEqual(recipe);
    expect(recipe.phases[0]!.trains).toEqual({ kind: 'head-only' });
  });

  it('the fine-tune presets train at a lower learning rate after the head phase', () => {
    for (const recipe of [presets['partial-fine-tune'], presets['full-fine-tune']]) {
      expect(recipe.phases[1]!.learningRate).toBeLessThan(recipe.phases[0]!.learningRate);
    }
  });
});
