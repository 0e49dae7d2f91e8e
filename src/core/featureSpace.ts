import { either as E, function as F } from 'fp-ts';
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
 */
export const featureSpace = (args: FeatureSpaceArgs): E.Either<TransferError, FeatureSpace> => {
  const dtype = args.dtype ?? 'float32';
  return F.pipe(
    nonEmptyString('id', args.id),
    E.chain(() =>
      Array.isArray(args.shape) && args.shape.length > 0
        ? everyItem(positiveInteger)('shape', args.shape)
        : E.left(invalidArgument('shape', 'a non-empty array of positive integers', args.shape)),
    ),
    E.chain((shape) =>
      DTYPES.includes(dtype)
        ? E.right({ id: args.id, shape: [...shape], dtype })
        : E.left(invalidArgument('dtype', `one of ${DTYPES.map((d) => `'${d}'`).join(', ')}`, dtype)),
    ),
  );
};

/** Number of values in one example: the product of the shape. */
export const featureCount = (space: FeatureSpace): number => space.shape.reduce((a, b) => a * b, 1);

/** True when two feature spaces are the same space: same id, shape and dtype. */
export const sameFeatureSpace = (a: FeatureSpace, b: FeatureSpace): boolean =>
  a.id === b.id && a.dtype === b.dtype && a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
