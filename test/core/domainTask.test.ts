import { describe, expect, it } from 'vitest';
import { binary, domain, featureSpace, matrix, task, transferProblem, unobservedMarginal, type Marginal } from 'transferkit';
import { err, ok } from '../fixtures/either';

const plane = ok(featureSpace({ id: 'xy', shape: [2] }));

describe('domain', () => {
  it('pairs a feature space with a marginal of the same width', () => {
    expect(ok(domain(plane, unobservedMarginal()))).toEqual({ featureSpace: plane, marginal: { kind: 'unobserved' } });
    // Built by hand, bypassing marginalFromSamples: domain still checks the width.
    const wrong: Marginal = { kind: 'samples', samples: ok(matrix(1, 3, new Float32Array(3))) };
    expect(err(domain(plane, wrong))).toMatchObject({ _tag: 'ShapeMismatch', path: 'marginal', received: '3 features' });
  });
});

describe('task and transfer problem', () => {
  const spam = ok(binary('spam', 'ham'));
  const d = ok(domain(plane, unobservedMarginal()));

  it('a task carries its label space and, optionally, a labelling rule', () => {
    expect(ok(task(spam))).toEqual({ labelSpace: spam });
    expect(ok(task(spam, 'user-flags'))).toEqual({ labelSpace: spam, labelling: 'user-flags' });
    expect(err(task(spam, '')).path).toBe('labelling');
  });

  it('a problem defaults to labels on both sides and checks the flags', () => {
    const side = { domain: d, task: ok(task(spam)) };
    expect(ok(transferProblem({ source: side, target: side })).labels).toEqual({ source: true, target: true });
    const bad = { source: true, target: 'yes' as unknown as boolean };
    expect(err(transferProblem({ source: side, target: side, labels: bad })).path).toBe('labels.target');
  });
});
