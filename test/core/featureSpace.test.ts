import { describe, expect, it } from 'vitest';
import { featureCount, featureSpace, sameFeatureSpace, type DType } from 'transferkit';
import { err, ok } from '../fixtures/either';

describe('featureSpace', () => {
  it('defaults the dtype to float32 and copies the shape', () => {
    const shape = [28, 28, 1];
    const s = ok(featureSpace({ id: 'mnist-28x28', shape }));
    shape[0] = 99;
    expect(s).toEqual({ id: 'mnist-28x28', shape: [28, 28, 1], dtype: 'float32' });
    expect(featureCount(s)).toBe(784);
  });

  it.each([
    [{ id: '', shape: [2] }, 'id'],
    [{ id: 'x', shape: [] }, 'shape'],
    [{ id: 'x', shape: [2, 0] }, 'shape[1]'],
    [{ id: 'x', shape: [2.5] }, 'shape[0]'],
    [{ id: 'x', shape: [2], dtype: 'float64' as DType }, 'dtype'],
  ])('rejects %o at %s', (args, path) => {
    expect(err(featureSpace(args))).toMatchObject({ _tag: 'InvalidArgument', path });
  });

  it('names the valid dtypes', () => {
    expect(err(featureSpace({ id: 'x', shape: [1], dtype: 'float64' as DType })).expected).toBe(
      "one of 'float32', 'int32', 'bool', 'string'",
    );
  });

  it('one space needs one id, shape and dtype: 784 pixels are not a 784-word vocabulary', () => {
    const pixels = ok(featureSpace({ id: 'mnist-flat', shape: [784] }));
    expect(sameFeatureSpace(pixels, ok(featureSpace({ id: 'mnist-flat', shape: [784] })))).toBe(true);
    expect(sameFeatureSpace(pixels, ok(featureSpace({ id: 'bag-of-words-en', shape: [784] })))).toBe(false);
    expect(sameFeatureSpace(pixels, ok(featureSpace({ id: 'mnist-flat', shape: [28, 28] })))).toBe(false);
    expect(sameFeatureSpace(pixels, ok(featureSpace({ id: 'mnist-flat', shape: [784], dtype: 'int32' })))).toBe(false);
  });
});
