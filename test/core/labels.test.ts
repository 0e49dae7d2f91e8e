import { describe, expect, it } from 'vitest';
import { checkLabels } from 'transferkit';
import { err, ok } from '../fixtures/either';

describe('checkLabels', () => {
  it('takes class ids, inferring the number of classes from the largest', () => {
    expect(ok(checkLabels([0, 2, 1, 2]))).toEqual({ ids: Int32Array.from([0, 2, 1, 2]), classes: 3 });
    expect(ok(checkLabels(Int32Array.from([1, 0]), 2)).classes).toBe(2);
  });

  it('takes one-hot rows', () => {
    const oneHot = { rows: 3, cols: 3, data: new Float32Array([0, 1, 0, 1, 0, 0, 0, 0, 1]) };
    expect(ok(checkLabels(oneHot)).ids).toEqual(Int32Array.from([1, 0, 2]));
  });

  it('says which class has no example when the count is given', () => {
    expect(err(checkLabels([0, 1, 0], 3))).toMatchObject({ path: 'labels', received: 'no example of class 2' });
    expect(err(checkLabels([0, 1], 1)).path).toBe('classes');
    expect(ok(checkLabels([0, 1, 0], 3, false)).classes).toBe(3); // a test set may lack a class
  });
});
