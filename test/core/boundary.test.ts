/**
 * The hardening issue's repros for the core, each as a test: hostile values at the public boundary
 * give a Left that says what was expected (or, for the few total helpers, their documented
 * fallback), never a throw; large inputs neither overflow the stack nor allocate by their largest
 * id; error paths read only what they print.
 */
import { either as E } from 'fp-ts';
import { describe, expect, it } from 'vitest';
import {
  backboneFraction,
  categorical,
  checkLabels,
  classifyScenario,
  classNames,
  compareLabelSpaces,
  describeValue,
  domain,
  featureCount,
  featureSpace,
  invalidArgument,
  makeRecipe,
  marginalFromSamples,
  matrix,
  memoryRowStore,
  regression,
  sameFeatureSpace,
  selectStrategy,
  tapDepth,
  task,
  transferProblem,
  UNREADABLE_EXPECTED,
  unobservedMarginal,
  validateShiftTest,
  type TransferError,
  type TransferProblem,
} from 'transferkit';
import { err, ok } from '../fixtures/either';

/** A revoked Proxy: any use of it throws. */
const revoked = (): object => {
  const p = Proxy.revocable({}, {});
  p.revoke();
  return p.proxy;
};

/** An object whose every read throws. */
const throwing = (): object => new Proxy({}, { get: () => { throw new Error('getter threw'); }, ownKeys: () => { throw new Error('ownKeys threw'); } });

const space = { id: 'xy', shape: [2], dtype: 'float32' } as const;
const side = { domain: { featureSpace: space, marginal: { kind: 'unobserved' } }, task: { labelSpace: { kind: 'binary', positive: 'a', negative: 'b' } } } as const;
const problem = { source: side, target: side, labels: { source: true, target: true } } as unknown as TransferProblem;

describe('values that throw when read', () => {
  it('are described, never thrown from', () => {
    expect(describeValue(revoked())).toBe('an unreadable value');
    expect(describeValue(throwing())).toBe('an object');
    expect(describeValue(Symbol('s'))).toBe('Symbol(s)');
    expect(invalidArgument(revoked() as never, revoked() as never, revoked()).message).toBe('an unreadable value: expected an unreadable value, received an unreadable value');
  });

  it('give a Left from every Either-returning factory: the boundary error, for a revoked Proxy', () => {
    for (const [value, unreadable] of [[revoked(), true], [throwing(), false]] as const) {
      const calls: Array<() => E.Either<TransferError, unknown>> = [
        () => selectStrategy(value as never),
        () => featureSpace(value as never),
        () => makeRecipe(value as never),
        () => transferProblem(value as never),
        () => classifyScenario(value as never),
        () => checkLabels(value as never),
        () => memoryRowStore(value as never),
      ];
      for (const call of calls) {
        const e = err(call());
        expect(e._tag).toBe('InvalidArgument');
        // An object whose getters throw may still be told apart by its shape first (e.g. "not labels").
        if (unreadable) expect(e.expected).toBe(UNREADABLE_EXPECTED);
        else expect(e.expected!.length).toBeGreaterThan(0);
      }
    }
  });
});

describe('null, undefined and wrong types', () => {
  it('are Lefts that name the argument', () => {
    expect(err(selectStrategy(null as never))).toMatchObject({ path: 'args' });
    expect(err(featureSpace(null as never))).toMatchObject({ path: 'args' });
    expect(err(domain(null as never, unobservedMarginal()))).toMatchObject({ path: 'featureSpace' });
    expect(err(domain(ok(featureSpace({ id: 'a', shape: [2] })), null as never))).toMatchObject({ path: 'marginal' });
    expect(err(domain(ok(featureSpace({ id: 'a', shape: [2] })), unobservedMarginal(42 as never)))).toMatchObject({ path: 'marginal.source' });
    expect(err(regression(null as never))).toMatchObject({ path: 'args' });
    expect(ok(regression())).toEqual({ kind: 'regression', dimensions: 1 });
    expect(err(task(null as never))).toMatchObject({ path: 'labelSpace' });
    expect(err(task({ kind: 'categorical', classes: ['a'] } as never))).toMatchObject({ path: 'labelSpace.classes' });
    expect(err(makeRecipe(null as never))).toMatchObject({ path: 'recipe' });
    expect(err(makeRecipe({ tap: { kind: 'top' }, phases: [null as never] }))).toMatchObject({ path: 'phases[0]' });
    expect(err(makeRecipe({ tap: { kind: 'top' }, phases: [], rationale: 5 as never }))).toMatchObject({ path: 'phases' });
    expect(err(validateShiftTest('t', null as never))).toMatchObject({ path: 't' });
    expect(err(marginalFromSamples(null as never, null as never))).toMatchObject({ path: 'space' });
  });

  it('a problem is checked side by side, so classifyScenario never reads into null', () => {
    expect(err(transferProblem({ source: null, target: null } as never))).toMatchObject({ path: 'source' });
    expect(err(transferProblem({ source: side, target: { ...side, task: null } } as never))).toMatchObject({ path: 'target.task' });
    expect(err(classifyScenario({ source: null, target: null, labels: { source: true, target: true } } as never))).toMatchObject({ path: 'problem.source' });
    expect(err(classifyScenario(problem, null as never))).toMatchObject({ path: 'evidence' });
    expect(E.isRight(classifyScenario(problem))).toBe(true);
  });

  it('the total helpers give their documented fallback', () => {
    expect(featureCount(null as never)).toBe(0);
    expect(featureCount(revoked() as never)).toBe(0);
    expect(featureCount(space)).toBe(2);
    expect(sameFeatureSpace(space, null as never)).toBe(false);
    expect(classNames(revoked() as never)).toBeUndefined();
    expect(compareLabelSpaces(null as never, side.task.labelSpace)).toBe('different');
    expect(tapDepth(null as never)).toBeUndefined();
    expect(backboneFraction({ kind: 'top-fraction', fraction: 2 })).toBeUndefined();
    expect(backboneFraction({ kind: 'top-fraction', fraction: 0.5 })).toBe(0.5);
  });
});

describe('large inputs', () => {
  it('labels: 200,000 of them, without overflowing the stack', () => {
    const n = 200_000;
    expect(ok(checkLabels(Array.from({ length: n }, (_, i) => i % 3))).classes).toBe(3);
  });

  it('labels: a large id is a missing class found without allocating up to it', () => {
    // Before, this allocated an array of 10⁹ counts (or failed to).
    expect(err(checkLabels([0, 1e9]))).toMatchObject({ path: 'labels', received: 'no example of class 1' });
    expect(err(checkLabels([0, 1, 2 ** 31]))).toMatchObject({ path: 'labels[2]' });
    expect(ok(checkLabels([0, 1], 2 ** 31 - 1, false)).classes).toBe(2 ** 31 - 1);
  });

  it('labels: any typed array of integer ids, and a clear error for what is not labels', () => {
    expect(ok(checkLabels(Float32Array.of(0, 1, 1)))).toEqual({ ids: Int32Array.of(0, 1, 1), classes: 2 });
    expect(ok(checkLabels(Uint8Array.of(1, 0))).classes).toBe(2);
    expect(err(checkLabels(Float32Array.of(0, 0.5)))).toMatchObject({ path: 'labels[1]' });
    for (const bad of [null, undefined, 5, 'a', {}]) expect(err(checkLabels(bad as never))).toMatchObject({ path: 'labels' });
  });

  it('describing a huge array reads only the items it shows', () => {
    let reads = 0;
    const items = new Proxy(new Array(30_000_000), {
      get: (target, key, receiver) => {
        if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
        return Reflect.get(target, key, receiver);
      },
    });
    expect(describeValue(items)).toBe('[undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined, ... (30000000 items)]');
    expect(reads).toBe(8);
  });

  it('class names: 60,000 distinct ones, and the first duplicate named', () => {
    const names = Array.from({ length: 60_000 }, (_, i) => `class ${i}`);
    expect(ok(categorical(names)).kind).toBe('categorical');
    expect(err(categorical([...names, 'class 7']))).toMatchObject({ path: 'classes[60000]', received: '"class 7"' });
  });
});

describe('memoryRowStore', () => {
  it('refuses a chunk size it could not use', () => {
    for (const chunkFloats of [0, -1, 0.5, Number.NaN, Infinity, 2 ** 29]) expect(err(memoryRowStore({ chunkFloats }))).toMatchObject({ path: 'options.chunkFloats' });
    expect(err(memoryRowStore(null as never))).toMatchObject({ path: 'options' });
  });
});

describe('matrix', () => {
  it('is a Left for every hostile argument', () => {
    expect(err(matrix(2, 2, new Float32Array(3)))._tag).toBe('ShapeMismatch');
    expect(err(matrix(-1, 2, new Float32Array(0)))).toMatchObject({ path: 'rows' });
    expect(err(matrix(1, 1, [1] as never))).toMatchObject({ path: 'data' });
  });
});
