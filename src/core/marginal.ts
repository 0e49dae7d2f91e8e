import { either as E } from 'fp-ts';
import { guard, isRecord } from './boundary';
import { describeValue, invalidArgument, shapeMismatch, within, type TransferError } from './errors';
import { checkFeatureSpace, type FeatureSpace } from './featureSpace';
import type { Matrix } from './matrix';
import { matrix } from './matrix';
import { nonEmptyString, positiveInteger } from './validate';

/**
 * The marginal distribution P(X) of a domain (Pan & Yang 2009, §2.2).
 *
 * A marginal is never known exactly; transferkit knows it in one of three ways:
 * - `samples`: examples drawn from it, one flattened example per row;
 * - `statistics`: a sample size, a mean and optionally a covariance;
 * - `unobserved`: nothing is known (typical for a pretrained model whose training data is not at hand).
 *
 * Whether two marginals differ is decided by measured evidence (a two-sample test such as MMD
 * with a permutation p-value), never assumed. The optional `source` names the data set the
 * samples come from: two marginals that name the same source are the same distribution by declaration.
 */
export type Marginal =
  | {
      /** Known through example inputs. */
      readonly kind: 'samples';
      /** The examples, one row each. */
      readonly samples: Matrix;
      /** Where they come from, e.g. a dataset's name; two marginals from the same source are the same distribution. */
      readonly source?: string;
    }
  | {
      /** Known through summary statistics. */
      readonly kind: 'statistics';
      /** How many examples the statistics summarise. */
      readonly count: number;
      /** Mean of each feature; length = the feature count. */
      readonly mean: Float32Array;
      /** Feature covariance, features × features, when known. */
      readonly covariance?: Matrix;
      /** Where the data come from (see `samples`). */
      readonly source?: string;
    }
  | {
      /** Not observed: only its source, if any, is known. */
      readonly kind: 'unobserved';
      /** Where the data come from (see `samples`). */
      readonly source?: string;
    };

const checkSource = (source: string | undefined): E.Either<TransferError, void> =>
  source === undefined ? E.right(undefined) : E.map(() => undefined)(nonEmptyString('source', source));

/**
 * A marginal known through samples: `samples` has one row per example and one column per value
 * of the flattened example (`featureCount(space)` columns).
 *
 * @param space - the feature space the samples live in
 * @param samples - the examples; not copied, so do not mutate it afterwards
 * @param source - optional name of the data set they come from
 *
 * @example
 * ```ts
 * import { featureSpace, marginalFromSamples, matrix } from 'transferkit';
 * import { either as E, function as F } from 'fp-ts';
 *
 * const m = F.pipe(
 *   E.Do,
 *   E.bind('space', () => featureSpace({ id: 'xy', shape: [2] })),
 *   E.bind('x', () => matrix(3, 2, new Float32Array([0, 1, 1, 0, 1, 1]))),
 *   E.chain(({ space, x }) => marginalFromSamples(space, x, 'toy')),
 * );
 * ```
 * @function
 */
export const marginalFromSamples = guard('marginalFromSamples', (space: FeatureSpace, samples: Matrix, source?: string): E.Either<TransferError, Marginal> => {
  const checkedSpace = checkFeatureSpace('space', space);
  if (E.isLeft(checkedSpace)) return checkedSpace;
  if (!isRecord(samples)) return E.left(invalidArgument('samples', 'a Matrix { rows, cols, data }', samples));
  const checked = matrix(samples.rows, samples.cols, samples.data);
  if (E.isLeft(checked)) return checked;
  const d = countOf(checkedSpace.right);
  if (samples.cols !== d) {
    return E.left(shapeMismatch('samples.cols', `${d} columns (the flattened ${space.id} example)`, `${samples.cols} columns`));
  }
  return E.map(() => ({ kind: 'samples' as const, samples: checked.right, ...(source === undefined ? {} : { source }) }))(checkSource(source));
});

const countOf = (space: FeatureSpace): number => space.shape.reduce((a, b) => a * b, 1);

/**
 * A marginal known through summary statistics: the sample size, the mean of each feature and,
 * optionally, the feature covariance.
 *
 * @example
 * ```ts
 * import { featureSpace, marginalFromStatistics } from 'transferkit';
 * import { either as E, function as F } from 'fp-ts';
 *
 * const m = F.pipe(
 *   featureSpace({ id: 'xy', shape: [2] }),
 *   E.chain((space) => marginalFromStatistics(space, { count: 100, mean: new Float32Array([0.5, 0.5]) })),
 * );
 * ```
 * @function
 */
export const marginalFromStatistics = guard('marginalFromStatistics', (
  space: FeatureSpace,
  stats: { readonly count: number; readonly mean: Float32Array; readonly covariance?: Matrix; readonly source?: string },
): E.Either<TransferError, Marginal> => {
  const checkedSpace = checkFeatureSpace('space', space);
  if (E.isLeft(checkedSpace)) return checkedSpace;
  if (!isRecord(stats)) return E.left(invalidArgument('stats', 'statistics { count, mean, covariance?, source? }', stats));
  const d = countOf(checkedSpace.right);
  const count = positiveInteger('count', stats.count);
  if (E.isLeft(count)) return count;
  if (!(stats.mean instanceof Float32Array) || stats.mean.length !== d) {
    return E.left(shapeMismatch('mean', `a Float32Array of ${d} values`, describeValue(stats.mean)));
  }
  const bad = stats.mean.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) return E.left(invalidArgument(`mean[${bad}]`, 'a finite number', stats.mean[bad]));
  if (stats.covariance !== undefined) {
    if (!isRecord(stats.covariance)) return E.left(invalidArgument('covariance', 'a Matrix { rows, cols, data }', stats.covariance));
    const { rows, cols, data } = stats.covariance;
    if (rows !== d || cols !== d) {
      return E.left(shapeMismatch('covariance', `${d} × ${d}`, `${rows} × ${cols}`));
    }
    const cov = matrix(rows, cols, data);
    if (E.isLeft(cov)) return cov;
  }
  const { count: n, mean, covariance, source } = stats;
  return E.map(() => ({ kind: 'statistics' as const, count: n, mean, ...(covariance === undefined ? {} : { covariance }), ...(source === undefined ? {} : { source }) }))(checkSource(source));
});

/**
 * Checks that a value is a {@link Marginal} over `space` (samples or statistics of its width, or
 * unobserved), with paths under `path`.
 */
export const checkMarginal = (path: string, space: FeatureSpace, value: unknown): E.Either<TransferError, Marginal> => {
  if (!isRecord(value)) return E.left(invalidArgument(path, "a marginal { kind: 'samples' | 'statistics' | 'unobserved', ... }", value));
  const under = (e: TransferError): TransferError => within(path, e);
  switch (value['kind']) {
    case 'unobserved':
      return E.bimap(under, () => value as Marginal)(checkSource(value['source'] as string | undefined));
    case 'samples':
      return E.mapLeft(under)(marginalFromSamples(space, value['samples'] as Matrix, value['source'] as string | undefined));
    case 'statistics':
      return E.mapLeft(under)(marginalFromStatistics(space, value as unknown as Parameters<typeof marginalFromStatistics>[1]));
    default:
      return E.left(invalidArgument(`${path}.kind`, "'samples', 'statistics' or 'unobserved'", value['kind']));
  }
};

/**
 * A marginal about which nothing is known but, optionally, the name of its data. Never fails:
 * `domain` checks the name (a non-empty string) when the marginal is used.
 *
 * @example
 * ```ts
 * import { unobservedMarginal } from 'transferkit';
 *
 * const imagenet = unobservedMarginal('imagenet-1k-train');
 * ```
 */
export const unobservedMarginal = (source?: string): Marginal =>
  source === undefined ? { kind: 'unobserved' } : { kind: 'unobserved', source };
