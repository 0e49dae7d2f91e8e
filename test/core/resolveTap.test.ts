import { describe, expect, it } from 'vitest';
import { type LayerInfo } from 'transferkit';
import { rankedCandidates, resolveTap } from '../../src/core/resolveTap';
import { checkTap } from '../../src/core/recipe';
import { err, ok } from '../fixtures/either';

/** A chain of layers, each reading the previous; `kinds[0]` may be an InputLayer. */
const chain = (kinds: string[]): LayerInfo[] =>
  kinds.map((kind, index) => ({ name: `${kind.toLowerCase()}_${index}`, index, kind, outputShape: [null, 4], params: 0, trainable: true, inputs: index === 0 ? [] : [index - 1] }));

// input, conv, bn, relu, conv, bn, relu, pool, dense(classifier)
const net = chain(['InputLayer', 'Conv2D', 'BatchNormalization', 'ReLU', 'Conv2D', 'BatchNormalization', 'ReLU', 'GlobalAveragePooling2D', 'Dense']);
const top = 7;

describe('resolveTap', () => {
  it('resolves the top, an index, an offset from the top and a name', () => {
    expect(ok(resolveTap(net, top, { kind: 'top' })).index).toBe(7);
    expect(ok(resolveTap(net, top, { kind: 'index', index: 4 })).index).toBe(4);
    expect(ok(resolveTap(net, top, { kind: 'from-top', offset: 1 })).index).toBe(6);
    expect(ok(resolveTap(net, top, { kind: 'layer', name: 'relu_3' })).index).toBe(3);
  });

  it('moves a relative depth to the end of its block (past BatchNorm and activation)', () => {
    // 1 + 0.5 × 6 = 4: the second conv, whose block ends at its ReLU (6).
    expect(ok(resolveTap(net, top, { kind: 'relative-depth', depth: 0.5 })).index).toBe(6);
    expect(ok(resolveTap(net, top, { kind: 'relative-depth', depth: 0.1 })).index).toBe(3);
  });

  it('never taps the input layer or above the top, and lists valid names for an unknown one', () => {
    expect(err(resolveTap(net, top, { kind: 'index', index: 0 })).path).toBe('tap.index');
    expect(err(resolveTap(net, top, { kind: 'index', index: 8 })).expected).toBe('a layer from 1 to 7 (the top feature layer)');
    expect(err(resolveTap(net, top, { kind: 'layer', name: 'dense_8' })).expected).toContain('conv2d_1, batchnormalization_2');
    expect(err(resolveTap(net, top, { kind: 'from-top', offset: 7 })).path).toBe('tap.offset');
  });

  it('without an input layer (a Sequential model) the first layer can be the tap', () => {
    const seq = chain(['Dense', 'Dense', 'Dense']);
    expect(ok(resolveTap(seq, 1, { kind: 'index', index: 0 })).index).toBe(0);
    expect(err(resolveTap(seq, 1, { kind: 'layer', name: 'nope' })).expected).toContain('dense_0, dense_1');
  });
});

describe('a ranked tap', () => {
  it('is chosen among the block ends from its depth up to just below the top', () => {
    const names = (from: number) => rankedCandidates(net, top, from).map((l) => l.name);
    expect(names(0)).toEqual(['relu_3', 'relu_6']);
    // 1 + 0.5 × 6 = 4: from the second block on.
    expect(names(0.5)).toEqual(['relu_6']);
    // Nothing that high below the top: the highest block end below it.
    expect(names(0.99)).toEqual(['relu_6']);
    // Nothing below the top at all: the top.
    expect(rankedCandidates(chain(['InputLayer', 'Dense', 'Dense']), 1, 0.5).map((l) => l.index)).toEqual([1]);
  });

  it('is checked, and is not a layer resolveTap can name without the data', () => {
    expect(err(checkTap('tap', { kind: 'ranked', from: 1 }))).toMatchObject({ path: 'tap.from', expected: 'a number in [0, 1)' });
    expect(err(checkTap('tap', { kind: 'ranked' } as never)).path).toBe('tap.from');
    expect(err(resolveTap(net, top, { kind: 'ranked', from: 0.5 })).expected).toContain('transfer');
  });
});
