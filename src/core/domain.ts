import { either as E } from 'fp-ts';
import { guard, isRecord } from './boundary';
import { invalidArgument, shapeMismatch, within, type TransferError } from './errors';
import { checkFeatureSpace, type FeatureSpace } from './featureSpace';
import { checkMarginal, type Marginal } from './marginal';

/**
 * A domain D = {𝒳, P(X)} (Pan & Yang 2009, Definition 1): a feature space and a marginal
 * distribution over it.
 */
export interface Domain {
  /** 𝒳: what one example is. */
  readonly featureSpace: FeatureSpace;
  /** P(X): how examples are distributed, as far as it is known. */
  readonly marginal: Marginal;
}

/**
 * Makes a {@link Domain}, checking that the marginal's samples or statistics have the feature
 * space's width.
 *
 * @example
 * ```ts
 * import { domain, featureSpace, unobservedMarginal } from 'transferkit';
 * import { either as E, function as F } from 'fp-ts';
 *
 * const mnist = F.pipe(
 *   featureSpace({ id: 'mnist-28x28', shape: [28, 28, 1] }),
 *   E.chain((space) => domain(space, unobservedMarginal('mnist-train'))),
 * );
 * ```
 * @function
 */
export const domain = guard('domain', (featureSpace: FeatureSpace, marginal: Marginal): E.Either<TransferError, Domain> => {
  const space = checkFeatureSpace('featureSpace', featureSpace);
  if (E.isLeft(space)) return space;
  const d = space.right.shape.reduce((a, b) => a * b, 1);
  if (isRecord(marginal) && (marginal.kind === 'samples' || marginal.kind === 'statistics')) {
    const width = marginal.kind === 'samples' ? (marginal.samples as { cols?: unknown } | undefined)?.cols : (marginal.mean as { length?: unknown } | undefined)?.length;
    if (typeof width === 'number' && width !== d) {
      return E.left(shapeMismatch('marginal', `${d} features (the flattened ${space.right.id} example)`, `${width} features`));
    }
  }
  const m = checkMarginal('marginal', space.right, marginal);
  return E.isLeft(m) ? m : E.right({ featureSpace: space.right, marginal: m.right });
});

/** Checks that a value is a {@link Domain}: a feature space and a marginal over it, with paths under `path`. */
export const checkDomain = (path: string, value: unknown): E.Either<TransferError, Domain> => {
  if (!isRecord(value)) return E.left(invalidArgument(path, 'a domain { featureSpace, marginal }', value));
  const d = domain(value['featureSpace'] as FeatureSpace, value['marginal'] as Marginal);
  return E.mapLeft((e: TransferError) => within(path, e))(d);
};
