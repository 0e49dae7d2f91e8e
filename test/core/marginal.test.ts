import { describe, expect, it } from 'vitest';
import { featureSpace, marginalFromSamples, marginalFromStatistics, matrix, unobservedMarginal } from 'transferkit';
import { err, ok } from '../fixtures/either';

const plane = ok(featureSpace({ id: 'xy', shape: [2] }));

describe('marginals', () => {
  it('from samples: one flattened example per row', () => {
    const x = ok(matrix(3, 2, new Float32Array([0, 1, 1, 0, 1, 1])));
    expect(ok(marginalFromSamples(plane, x, 'toy'))).toEqual({ kind: 'samples', samples: x, source: 'toy' });
    expect(ok(marginalFromSamples(plane, x))).not.toHaveProperty('source');
  });

  it('from samples: the width must be the feature count, and the values finite', () => {
    const wide = ok(matrix(1, 3, new Float32Array(3)));
    expect(err(marginalFromSamples(plane, wide))).toMatchObject({ _tag: 'ShapeMismatch', path: 'samples.cols' });
    const bad = { rows: 1, cols: 2, data: new Float32Array([0, Number.NaN]) };
    expect(err(marginalFromSamples(plane, bad))._tag).toBe('InvalidArgument');
    expect(err(marginalFromSamples(plane, ok(matrix(1, 2, new Float32Array(2))), '')).path).toBe('source');
  });

  it('from statistics: count, a mean per feature, an optional square covariance', () => {
    const mean = new Float32Array([0.5, 0.5]);
    const cov = ok(matrix(2, 2, new Float32Array([1, 0, 0, 1])));
    expect(ok(marginalFromStatistics(plane, { count: 10, mean, covariance: cov }))).toMatchObject({ kind: 'statistics', count: 10 });
    expect(err(marginalFromStatistics(plane, { count: 0, mean })).path).toBe('count');
    expect(err(marginalFromStatistics(plane, { count: 5, mean: new Float32Array(3) }))).toMatchObject({ _tag: 'ShapeMismatch', path: 'mean' });
    expect(err(marginalFromStatistics(plane, { count: 5, mean: new Float32Array([0, Number.NaN]) })).path).toBe('mean[1]');
    const notSquare = ok(matrix(2, 1, new Float32Array(2)));
    expect(err(marginalFromStatistics(plane, { count: 5, mean, covariance: notSquare })).path).toBe('covariance');
  });

  it('unobserved: nothing known but, optionally, the name of the data', () => {
    expect(unobservedMarginal()).toEqual({ kind: 'unobserved' });
    expect(unobservedMarginal('imagenet-1k')).toEqual({ kind: 'unobserved', source: 'imagenet-1k' });
  });
});
