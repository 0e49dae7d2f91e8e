import { describe, expect, it } from 'vitest';
import { backboneFraction, makeRecipe, tapDepth, type Phase, type RecipeArgs } from 'transferkit';
import { err, ok } from '../fixtures/either';

const head: Phase = { name: 'head', trains: { kind: 'head-only' }, epochs: 5, learningRate: 1e-3, optimizer: 'adam', regularization: { l2: 0 } };
const fineTune = (fraction: number): Phase => ({ ...head, name: 'fine-tune', trains: { kind: 'top-fraction', fraction }, learningRate: 1e-4 });

describe('makeRecipe', () => {
  it.each<[string, RecipeArgs, string]>([
    ['top tap, head only', { tap: { kind: 'top' }, phases: [head] }, 'feature-extractor'],
    ['earlier tap, head only', { tap: { kind: 'relative-depth', depth: 0.6 }, phases: [head] }, 'earlier-layer-tap'],
    ['top fraction', { tap: { kind: 'top' }, phases: [head, fineTune(0.3)] }, 'partial-fine-tune'],
    ['all', { tap: { kind: 'top' }, phases: [head, { ...head, trains: { kind: 'all' } }] }, 'full-fine-tune'],
    ['all from random weights', { tap: { kind: 'top' }, start: 'random', phases: [{ ...head, trains: { kind: 'all' } }] }, 'from-scratch'],
  ])('derives the kind from tap and phases: %s → %s', (_, args, kind) => {
    expect(ok(makeRecipe(args)).kind).toBe(kind);
  });

  it.each<[string, RecipeArgs['tap'], string]>([
    ['a named layer', { kind: 'layer', name: 'block_3' }, 'earlier-layer-tap'],
    ['an index', { kind: 'index', index: 4 }, 'earlier-layer-tap'],
    ['offset 0 from the top', { kind: 'from-top', offset: 0 }, 'feature-extractor'],
    ['offset 2 from the top', { kind: 'from-top', offset: 2 }, 'earlier-layer-tap'],
  ])('a head-only recipe tapping %s is a %s', (_, tap, kind) => {
    expect(ok(makeRecipe({ tap, phases: [head] })).kind).toBe(kind);
  });

  it('top-layers is a partial fine-tune; mixing it with top-fraction is refused', () => {
    const layers: Phase = { ...head, trains: { kind: 'top-layers', count: 2 } };
    expect(ok(makeRecipe({ tap: { kind: 'top' }, phases: [head, layers] })).kind).toBe('partial-fine-tune');
    expect(err(makeRecipe({ tap: { kind: 'top' }, phases: [head, layers, fineTune(0.5)] })).path).toBe('phases');
    expect(err(makeRecipe({ tap: { kind: 'top' }, phases: [{ ...head, trains: { kind: 'top-layers', count: 0 } }] })).path).toBe('phases[0].trains.count');
    expect(backboneFraction({ kind: 'top-layers', count: 2 })).toBeUndefined();
  });

  it('trainable is the widest policy of any phase, whatever the order', () => {
    const r = ok(makeRecipe({ tap: { kind: 'top' }, phases: [fineTune(0.2), fineTune(0.6), head] }));
    expect(r.trainable).toEqual({ kind: 'top-fraction', fraction: 0.6 });
    expect(backboneFraction(r.trainable)).toBe(0.6);
  });

  it('defaults: a linear head without dropout, no rationale, no warnings; inputs are copied', () => {
    const phases = [head];
    const r = ok(makeRecipe({ tap: { kind: 'top' }, phases }));
    phases.push(fineTune(0.5));
    expect(r.phases).toHaveLength(1);
    expect(r).toMatchObject({ start: 'pretrained', head: { hidden: [], dropout: 0 }, rationale: [], warnings: [] });
    expect(tapDepth(r.tap)).toBe(1);
  });

  it.each<[string, RecipeArgs, string]>([
    ['no phases', { tap: { kind: 'top' }, phases: [] }, 'phases'],
    ['epochs 0', { tap: { kind: 'top' }, phases: [{ ...head, epochs: 0 }] }, 'phases[0].epochs'],
    ['epochs 1.5', { tap: { kind: 'top' }, phases: [{ ...head, epochs: 1.5 }] }, 'phases[0].epochs'],
    ['minSteps 0', { tap: { kind: 'top' }, phases: [{ ...head, minSteps: 0 }] }, 'phases[0].minSteps'],
    ['minSteps 2.5', { tap: { kind: 'top' }, phases: [head, { ...head, minSteps: 2.5 }] }, 'phases[1].minSteps'],
    ['learning rate 0', { tap: { kind: 'top' }, phases: [{ ...head, learningRate: 0 }] }, 'phases[0].learningRate'],
    ['learning rate NaN', { tap: { kind: 'top' }, phases: [head, { ...head, learningRate: Number.NaN }] }, 'phases[1].learningRate'],
    ['negative l2', { tap: { kind: 'top' }, phases: [{ ...head, regularization: { l2: -1 } }] }, 'phases[0].regularization.l2'],
    ['fraction 1', { tap: { kind: 'top' }, phases: [fineTune(1)] }, 'phases[0].trains.fraction'],
    ['unknown optimizer', { tap: { kind: 'top' }, phases: [{ ...head, optimizer: 'lbfgs' as 'adam' }] }, 'phases[0].optimizer'],
    ['depth 0', { tap: { kind: 'relative-depth', depth: 0 }, phases: [head] }, 'tap.depth'],
    ['depth NaN', { tap: { kind: 'relative-depth', depth: Number.NaN }, phases: [head] }, 'tap.depth'],
    ['dropout 1', { tap: { kind: 'top' }, phases: [head], head: { hidden: [], dropout: 1 } }, 'head.dropout'],
    ['empty layer name', { tap: { kind: 'layer', name: '' }, phases: [head] }, 'tap.name'],
    ['negative index', { tap: { kind: 'index', index: -1 }, phases: [head] }, 'tap.index'],
    ['unknown tap kind', { tap: { kind: 'middle' } as unknown as RecipeArgs['tap'], phases: [head] }, 'tap.kind'],
    ['an unknown start', { tap: { kind: 'top' }, start: 'imagenet' as 'random', phases: [head] }, 'start'],
    ['a random start with a frozen phase', { tap: { kind: 'top' }, start: 'random', phases: [{ ...head, trains: { kind: 'all' } }, fineTune(0.5)] }, 'phases[1].trains'],
    ['hidden 0 units', { tap: { kind: 'top' }, phases: [head], head: { hidden: [16, 0], dropout: 0 } }, 'head.hidden[1]'],
  ])('rejects %s with InvalidArgument at %s', (_, args, path) => {
    expect(err(makeRecipe(args))).toMatchObject({ _tag: 'InvalidArgument', path });
  });
});
