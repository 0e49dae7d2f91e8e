import { either as E, function as F } from 'fp-ts';
import { guard, isRecord } from './boundary';
import { invalidArgument, type TransferError } from './errors';
import { everyItem, nonEmptyString, positiveInteger } from './validate';

/** The element type of one example's values. */
export type DType = 'float32' | 'int32' | 'bool' | 'string';

const DTYPES: ReadonlyArray<DType> = ['float32', 'int32', 'bool', 'string'];

/**
 * A feature space 𝒳 (Pan & Yang 2009, §2.2): what one example is.
 *
 * Two feature spaces are the same when their `id`, `shape` and `dtype` all agree. The `id` carries
 * the meaning the shape cannot: 28×28 pixels and a 784-word vocabulary have the same size but are
 * different spaces; English and German bags of words of one size are different spaces too.
 */
export interface FeatureSpace {
  /** What the values mean, e.g. `"mnist-28x28"`, `"rgb-224"`, `"bag-of-words-en"`. */
  readonly id: string;
  /** The shape of one example, without the batch dimension; every entry a positive integer. */
  readonly shape: ReadonlyArray<number>;
  /** The element type. */
  readonly dtype: DType;
}

/** Arguments of {@link featureSpace}. */
export interface FeatureSpaceArgs {
  /** What the values mean; two spaces with different ids are different spaces. */
  readonly id: string;
  /** The shape of one example, without the batch dimension. */
  readonly shape: ReadonlyArray<number>;
  /** The element type. Default `'float32'`. */
  readonly dtype?: DType;
}

/**
 * Makes a {@link FeatureSpace}, checking the id, the shape and the dtype.
 *
 * @returns the feature space, or `InvalidArgument` for an empty id, an empty shape, a shape
 * entry that is not a positive integer, or an unknown dtype
 *
 * @example
 * ```ts
 * import { featureSpace } from 'transferkit';
 *
 * const pixels = featureSpace({ id: 'mnist-28x28', shape: [28, 28, 1] });
 * ```
 * @function
 */
export const featureSpace = guard('featureSpace', (args: FeatureSpaceArgs): E.Either<TransferError, FeatureSpace> =>
  isRecord(args) ? checkFeatureSpace('', { ...args, dtype: args.dtype ?? 'float32' }) : E.left(invalidArgument('args', 'feature-space arguments { id, shape, dtype? }', args)),
);

/**
 * Checks that a value is a {@link FeatureSpace} (as `featureSpace` makes one, `dtype` included),
 * with paths under `path`; returns a copy.
 */
export const checkFeatureSpace = (path: string, value: unknown): E.Either<TransferError, FeatureSpace> => {
  const at = (field: string): string => (path === '' ? field : `${path}.${field}`);
  if (!isRecord(value)) return E.left(invalidArgument(path === '' ? 'featureSpace' : path, 'a feature space { id, shape, dtype }', value));
  const { id, shape, dtype } = value;
  return F.pipe(
    nonEmptyString(at('id'), id),
    E.chain(() =>
      Array.isArray(shape) && shape.length > 0
        ? everyItem(positiveInteger)(at('shape'), shape)
        : E.left(invalidArgument(at('shape'), 'a non-empty array of positive integers', shape)),
    ),
    E.chain((dims) =>
      DTYPES.includes(dtype as DType)
        ? E.right({ id: id as string, shape: [...dims], dtype: dtype as DType })
        : E.left(invalidArgument(at('dtype'), `one of ${DTYPES.map((d) => `'${d}'`).join(', ')}`, dtype)),
    ),
  );
};

/** Number of values in one example: the product of the shape; 0 for a value that is not a feature space. */
export const featureCount = (space: FeatureSpace): number => {
  const checked = checkQuietly(space);
  return checked === undefined ? 0 : checked.shape.reduce((a, b) => a * b, 1);
};

/** True when two feature spaces are the same space: same id, shape and dtype (false when either is not a feature space). */
export const sameFeatureSpace = (a: FeatureSpace, b: FeatureSpace): boolean => {
  const [x, y] = [checkQuietly(a), checkQuietly(b)];
  return x !== undefined && y !== undefined && x.id === y.id && x.dtype === y.dtype && x.shape.length === y.shape.length && x.shape.every((d, i) => d === y.shape[i]);
};

/** The checked space, or undefined for anything else (a value that throws when read included). */
const checkQuietly = (value: unknown): FeatureSpace | undefined => {
  const checked = guard('featureSpace', checkFeatureSpace)('', value);
  return E.isRight(checked) ? checked.right : undefined;
};
