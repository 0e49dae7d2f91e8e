import { describe, expect, it } from 'vitest';
import { matrix } from 'transferkit';
import { err, ok } from '../fixtures/either';

describe('matrix', () => {
  it('keeps the data row-major, without copying it', () => {
    const data = new Float32Array([1, 2, 3, 4, 5, 6]);
    const m = ok(matrix(2, 3, data));
    expect(m).toMatchObject({ rows: 2, cols: 3 });
    expect(m.data).toBe(data);
    expect(m.data[1 * 3 + 2]).toBe(6);
  });

  it('accepts an empty matrix', () => {
    expect(ok(matrix(0, 4, new Float32Array(0))).rows).toBe(0);
  });

  it('rejects a length that is not rows × cols', () => {
    expect(err(matrix(2, 3, new Float32Array(5)))).toMatchObject({ _tag: 'ShapeMismatch', expected: '2 × 3 = 6 values', received: '5 values' });
  });

  it('rejects NaN and Infinity, naming the row', () => {
    expect(err(matrix(2, 2, new Float32Array([0, 0, 0, Number.NaN])))).toMatchObject({ _tag: 'InvalidArgument', path: 'data[3] (row 1)' });
    expect(err(matrix(1, 1, new Float32Array([Number.NEGATIVE_INFINITY]))).received).toBe('-Infinity');
  });

  it('rejects sizes that are not non-negative integers, and data that is not a Float32Array', () => {
    expect(err(matrix(-1, 2, new Float32Array(0))).path).toBe('rows');
    expect(err(matrix(1, 1.5, new Float32Array(0))).path).toBe('cols');
    expect(err(matrix(1, 1, [1] as unknown as Float32Array)).path).toBe('data');
  });
});
