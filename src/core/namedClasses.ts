/**
 * Labels as class names: `['cat', 'dog', 'cat']` instead of `[0, 1, 0]`. The names become class
 * ids in a fixed order (given, or first seen), and travel with the trained model so that what it
 * predicts comes back as names.
 */
import { either as E } from 'fp-ts';
import { described, invalidArgument, type TransferError } from './errors';
import { MAX_CLASS_ID } from './labels';

/** The longest class name: 256 characters. */
export const MAX_CLASS_NAME_LENGTH = 256;

/** Labels as names, with the class order, checked. */
export interface NamedLabels {
  /** One class id per example: the index of its name in `classNames`. */
  readonly ids: Int32Array;
  /** The classes' names, by id. */
  readonly classNames: ReadonlyArray<string>;
}

/** Names for a message: all of a short list, the first 20 of a long one. */
const listed = (names: ReadonlyArray<string>): string => (names.length <= 20 ? names.join(', ') : `${names.slice(0, 20).join(', ')}, … (${names.length} in all)`);

const isName = (v: unknown): v is string => typeof v === 'string' && v.trim().length > 0 && v.length <= MAX_CLASS_NAME_LENGTH;
const NAME_EXPECTED = `a class name: a non-empty string of at most ${MAX_CLASS_NAME_LENGTH} characters`;

/**
 * Checks a list of class names: at least two, each a non-empty string, none twice.
 *
 * @returns the names; `InvalidArgument` at `path[i]` for the first bad or repeated one (a
 * repeat names where the name first appeared)
 */
export const checkClassNames = (path: string, names: unknown): E.Either<TransferError, ReadonlyArray<string>> => {
  if (!Array.isArray(names) || names.length < 2 || names.length > MAX_CLASS_ID + 1) return E.left(invalidArgument(path, 'an array of at least 2 class names', names));
  const seen = new Map<string, number>();
  for (const [i, name] of names.entries()) {
    if (!isName(name)) return E.left(invalidArgument(`${path}[${i}]`, NAME_EXPECTED, name));
    const first = seen.get(name);
    if (first !== undefined) return E.left(invalidArgument(`${path}[${i}]`, `class names that differ from each other (a name once each): ${listed([...seen.keys()])}`, described(`${JSON.stringify(name)} again (also at [${first}])`)));
    seen.set(name, i);
  }
  return E.right([...names] as string[]);
};

/**
 * Turns labels given as names into class ids. With `classNames`, those are the classes in that
 * order (every label must be one of them); without, the classes are the distinct labels in the
 * order they first appear.
 *
 * @returns the ids and the names; `InvalidArgument` for a label that is no name, a label not in
 * `classNames`, repeated class names, or fewer than 2 classes
 */
export const idsFromNames = (labels: ReadonlyArray<unknown>, classNames?: unknown): E.Either<TransferError, NamedLabels> => {
  let names: ReadonlyArray<string>;
  if (classNames !== undefined) {
    const checked = checkClassNames('options.classNames', classNames);
    if (E.isLeft(checked)) return checked;
    names = checked.right;
  } else {
    const found: string[] = [];
    const seen = new Set<string>();
    for (const [i, label] of labels.entries()) {
      if (!isName(label)) return E.left(invalidArgument(`labels[${i}]`, NAME_EXPECTED, label));
      if (!seen.has(label)) (seen.add(label), found.push(label));
    }
    if (found.length < 2) return E.left(invalidArgument('labels', 'at least 2 different class names', labels));
    names = found;
  }
  const index = new Map(names.map((n, i) => [n, i]));
  const ids = new Int32Array(labels.length);
  for (const [i, label] of labels.entries()) {
    const id = typeof label === 'string' ? index.get(label) : undefined;
    if (id === undefined) return E.left(invalidArgument(`labels[${i}]`, `one of the class names: ${listed(names)}`, label));
    ids[i] = id;
  }
  return E.right({ ids, classNames: names });
};
