/** Type-level contracts callers rely on; checked by `npm run typecheck`, and run as tests. */
import { either as E } from 'fp-ts';
import { describe, expectTypeOf, it } from 'vitest';
import {
  classifyScenario,
  selectStrategy,
  type DomainCause,
  type Recipe,
  type Scenario,
  type ScenarioReport,
  type RecipeKind,
  type StrategyKind,
  type TaskCause,
  type TransferError,
} from 'transferkit';

describe('public types', () => {
  it('fallible functions return Either<TransferError, A>, never a bare value', () => {
    expectTypeOf(selectStrategy).returns.toEqualTypeOf<E.Either<TransferError, Recipe>>();
    expectTypeOf(classifyScenario).returns.toEqualTypeOf<E.Either<TransferError, ScenarioReport>>();
  });

  it('TransferError narrows on _tag; every case has a message, argument errors carry expected and received', () => {
    expectTypeOf<TransferError['_tag']>().toEqualTypeOf<'InvalidArgument' | 'ShapeMismatch' | 'NotSupported' | 'Aborted' | 'BackendFailure'>();
    expectTypeOf<TransferError['message']>().toEqualTypeOf<string>();
    type ArgumentError = Extract<TransferError, { _tag: 'InvalidArgument' | 'ShapeMismatch' | 'NotSupported' }>;
    expectTypeOf<ArgumentError['expected']>().toEqualTypeOf<string>();
    expectTypeOf<ArgumentError['received']>().toEqualTypeOf<string>();
  });

  it('a Scenario narrows on kind to the fields of that case', () => {
    expectTypeOf<Extract<Scenario, { kind: 'domain-adaptation' }>['causes']>().toEqualTypeOf<ReadonlyArray<DomainCause>>();
    expectTypeOf<Extract<Scenario, { kind: 'task-transfer' }>['causes']>().toEqualTypeOf<ReadonlyArray<TaskCause>>();
    expectTypeOf<Extract<Scenario, { kind: 'both-differ' }>['warning']>().toEqualTypeOf<string>();
    expectTypeOf<Extract<Scenario, { kind: 'ordinary-learning' }>>().not.toHaveProperty('causes');
  });

  it('recipes are readonly data with one of the four strategy kinds, or the from-scratch baseline', () => {
    expectTypeOf<Recipe['kind']>().toEqualTypeOf<RecipeKind>();
    expectTypeOf<RecipeKind>().toEqualTypeOf<StrategyKind | 'from-scratch'>();
    expectTypeOf<Recipe['start']>().toEqualTypeOf<'pretrained' | 'random'>();
    expectTypeOf<StrategyKind>().toEqualTypeOf<'feature-extractor' | 'earlier-layer-tap' | 'partial-fine-tune' | 'full-fine-tune'>();
    expectTypeOf<Recipe['phases']>().toEqualTypeOf<ReadonlyArray<Recipe['phases'][number]>>();
  });
});
