import { describe, expect, it } from 'vitest';
import { binary, categorical, classNames, compareLabelSpaces, regression } from 'transferkit';
import { err, ok } from '../fixtures/either';

describe('label spaces', () => {
  it('categorical needs two or more distinct, non-empty names', () => {
    expect(ok(categorical(['cat', 'dog']))).toEqual({ kind: 'categorical', classes: ['cat', 'dog'] });
    expect(err(categorical(['cat'])).path).toBe('classes');
    expect(err(categorical(['cat', 'dog', 'cat']))).toMatchObject({ path: 'classes[2]', expected: 'distinct class names' });
    expect(err(categorical(['cat', ''])).path).toBe('classes[1]');
  });

  it('binary needs two different names', () => {
    expect(classNames(ok(binary('spam', 'ham')))).toEqual(['ham', 'spam']);
    expect(err(binary('spam', 'spam')).path).toBe('negative');
  });

  it('regression defaults to one dimension and checks the unit', () => {
    expect(ok(regression())).toEqual({ kind: 'regression', dimensions: 1 });
    expect(ok(regression({ dimensions: 3, unit: 'm' }))).toEqual({ kind: 'regression', dimensions: 3, unit: 'm' });
    expect(err(regression({ dimensions: 0 })).path).toBe('dimensions');
    expect(err(regression({ unit: '' })).path).toBe('unit');
    expect(classNames(ok(regression()))).toBeUndefined();
  });

  it('compares label spaces as sets of labels', () => {
    const twoWay = ok(categorical(['ham', 'spam']));
    expect(compareLabelSpaces(ok(binary('spam', 'ham')), twoWay)).toBe('same');
    expect(compareLabelSpaces(ok(categorical(['spam', 'ham'])), twoWay)).toBe('same-classes-reordered');
    expect(compareLabelSpaces(ok(categorical(['ham', 'spam', 'eggs'])), twoWay)).toBe('different');
    expect(compareLabelSpaces(ok(regression()), twoWay)).toBe('different');
    expect(compareLabelSpaces(ok(regression({ unit: 'kg' })), ok(regression({ unit: 'kg' })))).toBe('same');
    expect(compareLabelSpaces(ok(regression({ unit: 'kg' })), ok(regression({ unit: 'lb' })))).toBe('different');
  });
});
