import { either as E } from 'fp-ts';
import { shapeMismatch, type TransferError } from './errors';
import { featureCount, type FeatureSpace } from './featureSpace';
import type { Marginal } from './marginal';

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
 */
export const domain = (featureSpace: FeatureSpace, marginal: Marginal): E.Either<TransferError, Domain> => {
  const d = featureCount(featureSpace);
  const width =
    marginal.kind === 'samples' ? marginal.samples.cols : marginal.kind === 'statistics' ? marginal.mean.length : d;
  return width === d
    ? E.right({ featureSpace, marginal })
    : E.left(shapeMismatch('marginal', `${d} features (the flattened ${featureSpace.id} example)`, `${width} features`));
};
