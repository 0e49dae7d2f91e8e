import { describe, expect, it } from 'vitest';
import { backendFailure, described, describeValue, invalidArgument, shapeMismatch } from 'transferkit';

describe('describeValue', () => {
  it.each([
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
    [-0, '-0'],
    [undefined, 'undefined'],
    [null, 'null'],
    ['five', '"five"'],
    [[1, 2], '[1, 2]'],
    [new Float32Array([0.5]), '[0.5]'],
    [{ a: 1 }, 'an object'],
    [described('a disposed tensor'), 'a disposed tensor'],
  ])('renders %s as %s', (value, text) => {
    expect(describeValue(value)).toBe(text);
  });

  it('cuts long arrays and strings', () => {
    expect(describeValue(Array.from({ length: 20 }, (_, i) => i))).toBe('[0, 1, 2, 3, 4, 5, 6, 7, ... (20 items)]');
    expect(describeValue('x'.repeat(100))).toHaveLength(62);
  });
});

describe('error constructors', () => {
  it('InvalidArgument says where, what was expected and what came', () => {
    expect(invalidArgument('similarity', 'a number in [0, 1]', 1.5)).toEqual({
      _tag: 'InvalidArgument',
      path: 'similarity',
      expected: 'a number in [0, 1]',
      received: '1.5',
      message: 'similarity: expected a number in [0, 1], received 1.5',
    });
  });

  it('ShapeMismatch keeps both shapes', () => {
    expect(shapeMismatch('data', '6 values', '5 values').message).toBe('data: expected 6 values, received 5 values');
  });
});

/** The engine's WebAssembly trap (a global the ES library types leave out). */
const RuntimeError = (globalThis as unknown as { WebAssembly: { RuntimeError: new (message: string) => Error } }).WebAssembly.RuntimeError;

describe('a backend failure', () => {
  it('says what a WebAssembly trap means (an exhausted wasm heap, most often; the module is done), whatever the trap says', () => {
    expect(backendFailure('a training step', new Error('boom')).message).toBe('a training step failed: boom');
    for (const trap of ['Aborted(). Build with -sASSERTIONS for more info.', 'memory access out of bounds', 'table index is out of bounds']) {
      const e = backendFailure('a training step', new RuntimeError(trap));
      expect(e.message).toContain(trap);
      expect(e.message).toContain('heap (4 GB at most) running out, and a smaller batchSize needs less');
      expect(e.message).toContain('does not compute again in this process');
    }
    // Every failure after a trap says the module trapped (trapAfterwards.test.ts).
    expect(backendFailure('predicting', new Error('boom')).message).toMatch(/^predicting failed: boom \(a WebAssembly module trapped earlier/);
    // Asking whether a revoked proxy is a trap throws; the answer is then no.
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(backendFailure('a training step', proxy)._tag).toBe('BackendFailure');
  });
});
