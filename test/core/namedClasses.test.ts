import { describe, expect, it } from 'vitest';
import { checkClassNames, idsFromNames } from '../../src/core/namedClasses';
import { err, ok } from '../fixtures/either';

describe('class names as labels', () => {
  it('numbers the classes in the order they first appear, or in the order given', () => {
    const found = ok(idsFromNames(['dog', 'cat', 'dog', 'bird']));
    expect(found.classNames).toEqual(['dog', 'cat', 'bird']);
    expect([...found.ids]).toEqual([0, 1, 0, 2]);
    const given = ok(idsFromNames(['dog', 'cat', 'dog'], ['cat', 'dog', 'bird']));
    expect([...given.ids]).toEqual([1, 0, 1]);
    expect(given.classNames).toEqual(['cat', 'dog', 'bird']);
  });

  it('refuses repeated class names, naming the repeat and listing the names', () => {
    const e = err(checkClassNames('options.classNames', ['cat', 'dog', 'cat']));
    expect(e.path).toBe('options.classNames[2]');
    expect(e.received).toBe('"cat" again (also at [0])');
    expect(e.expected).toMatch(/cat, dog/);
    expect(err(idsFromNames(['cat', 'dog'], ['cat', 'dog', 'dog'])).path).toBe('options.classNames[2]');
  });

  it('refuses labels that are no names, or not among the classes, and a single class', () => {
    expect(err(idsFromNames(['cat', 3])).path).toBe('labels[1]');
    expect(err(idsFromNames(['cat', ' '])).path).toBe('labels[1]');
    expect(err(idsFromNames(['cat', 'fox'], ['cat', 'dog'])).expected).toBe('one of the class names: cat, dog');
    expect(err(idsFromNames(['cat', 'cat'])).expected).toMatch(/at least 2 different/);
    expect(err(checkClassNames('n', ['only'])).path).toBe('n');
  });
});
