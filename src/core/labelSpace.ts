import { either as E, function as F } from 'fp-ts';
import { guard, isRecord } from './boundary';
import { invalidArgument, within, type TransferError } from './errors';
import { everyItem, nonEmptyString, positiveInteger } from './validate';

/**
 * A label space 𝒴 (Pan & Yang 2009, Definition 2): what a label is.
 *
 * - `categorical`: one of two or more named classes; the class's index in `classes` is its label id.
 * - `binary`: a yes/no label, with the names of the two outcomes.
 * - `regression`: a real vector of `dimensions` values, in `unit` when one is given.
 */
export type LabelSpace =
  | {
      /** Named classes. */
      readonly kind: 'categorical';
      /** The class names, in the order of their ids. */
      readonly classes: ReadonlyArray<string>;
    }
  | {
      /** Two classes, one of them the positive. */
      readonly kind: 'binary';
      /** The positive class's name. */
      readonly positive: string;
      /** The negative class's name. */
      readonly negative: string;
    }
  | {
      /** Real-valued targets. */
      readonly kind: 'regression';
      /** How many values each target has. */
      readonly dimensions: number;
      /** Their unit, if stated (two regression spaces match only with the same unit). */
      readonly unit?: string;
    };

/**
 * A categorical label space over named classes (at least two, distinct, non-empty).
 *
 * @example
 * ```ts
 * import { categorical } from 'transferkit';
 *
 * const digits = categorical(['5', '6', '7', '8', '9']);
 * ```
 * @function
 */
export const categorical = guard('categorical', (classes: ReadonlyArray<string>): E.Either<TransferError, LabelSpace> =>
  F.pipe(
    Array.isArray(classes) && classes.length >= 2
      ? everyItem(nonEmptyString)('classes', classes)
      : E.left(invalidArgument('classes', 'an array of at least 2 class names', classes)),
    E.chain((names) => {
      const seen = new Set<string>();
      const dup = names.findIndex((n) => seen.size === seen.add(n).size);
      return dup < 0
        ? E.right({ kind: 'categorical' as const, classes: [...names] })
        : E.left(invalidArgument(`classes[${dup}]`, 'distinct class names', names[dup]));
    }),
  ),
);

/**
 * A binary label space; `positive` and `negative` name the two outcomes and must differ.
 *
 * @example
 * ```ts
 * import { binary } from 'transferkit';
 *
 * const spam = binary('spam', 'ham');
 * ```
 * @function
 */
export const binary = guard('binary', (positive: string, negative: string): E.Either<TransferError, LabelSpace> =>
  F.pipe(
    nonEmptyString('positive', positive),
    E.chain(() => nonEmptyString('negative', negative)),
    E.chain(() =>
      positive === negative
        ? E.left(invalidArgument('negative', `a name other than the positive class ${JSON.stringify(positive)}`, negative))
        : E.right({ kind: 'binary' as const, positive, negative }),
    ),
  ),
);

/**
 * A regression label space of `dimensions` real values (default 1), in `unit` when given.
 *
 * @example
 * ```ts
 * import { regression } from 'transferkit';
 *
 * const age = regression({ unit: 'years' });
 * ```
 * @function
 */
export const regression = guard('regression', (args: { readonly dimensions?: number; readonly unit?: string } = {}): E.Either<TransferError, LabelSpace> =>
  !isRecord(args)
    ? E.left(invalidArgument('args', 'regression arguments { dimensions?, unit? } (or nothing)', args))
    : F.pipe(
        positiveInteger('dimensions', args.dimensions ?? 1),
        E.chain((dimensions) =>
          args.unit === undefined
            ? E.right({ kind: 'regression' as const, dimensions })
            : E.map((unit: string) => ({ kind: 'regression' as const, dimensions, unit }))(nonEmptyString('unit', args.unit)),
        ),
      ),
);

/** Checks that a value is a {@link LabelSpace} (as `categorical`, `binary` or `regression` make one), with paths under `path`. */
export const checkLabelSpace = (path: string, value: unknown): E.Either<TransferError, LabelSpace> => {
  if (!isRecord(value)) return E.left(invalidArgument(path, "a label space { kind: 'categorical' | 'binary' | 'regression', ... }", value));
  const under = E.mapLeft((e: TransferError) => within(path, e));
  switch (value['kind']) {
    case 'categorical':
      return under(categorical(value['classes'] as ReadonlyArray<string>));
    case 'binary':
      return under(binary(value['positive'] as string, value['negative'] as string));
    case 'regression':
      return under(regression({ ...(value['dimensions'] === undefined ? {} : { dimensions: value['dimensions'] as number }), ...(value['unit'] === undefined ? {} : { unit: value['unit'] as string }) }));
    default:
      return E.left(invalidArgument(`${path}.kind`, "'categorical', 'binary' or 'regression'", value['kind']));
  }
};

/** The checked label space, or undefined for anything else (a value that throws when read included). */
const checkQuietly = (value: unknown): LabelSpace | undefined => {
  const checked = guard('labelSpace', checkLabelSpace)('labelSpace', value);
  return E.isRight(checked) ? checked.right : undefined;
};

/**
 * The class names of a classification label space (binary: `[negative, positive]`), or
 * `undefined` for regression and for a value that is not a label space.
 */
export const classNames = (space: LabelSpace): ReadonlyArray<string> | undefined => {
  const s = checkQuietly(space);
  return s === undefined ? undefined : namesOf(s);
};

const namesOf = (space: LabelSpace): ReadonlyArray<string> | undefined =>
  space.kind === 'categorical' ? space.classes : space.kind === 'binary' ? [space.negative, space.positive] : undefined;

/** How two label spaces compare. `same-classes-reordered`: one set of classes, listed in another order. */
export type LabelSpaceRelation = 'same' | 'same-classes-reordered' | 'different';

/**
 * Compares two label spaces as sets of labels: a binary space and a two-class categorical space
 * with the same names are one label space; regression spaces match on dimensions and unit. A value
 * that is not a label space is `'different'` from everything.
 */
export const compareLabelSpaces = (first: LabelSpace, second: LabelSpace): LabelSpaceRelation => {
  const [a, b] = [checkQuietly(first), checkQuietly(second)];
  if (a === undefined || b === undefined) return 'different';
  if (a.kind === 'regression' || b.kind === 'regression') {
    return a.kind === 'regression' && b.kind === 'regression' && a.dimensions === b.dimensions && a.unit === b.unit
      ? 'same'
      : 'different';
  }
  const ca = namesOf(a) ?? [];
  const cb = namesOf(b) ?? [];
  if (ca.length !== cb.length || !ca.every((c) => cb.includes(c))) return 'different';
  return ca.every((c, i) => c === cb[i]) ? 'same' : 'same-classes-reordered';
};
