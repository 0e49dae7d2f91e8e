import { either as E } from 'fp-ts';
import type { TransferError } from '../core/errors';
import { checkLabels, type Labels } from '../core/labels';
import { invalidArgument, shapeMismatch } from '../core/errors';

/** Result of {@link nce}. */
export interface NceResult {
  /** −H(Y | Z) in nats, ≤ 0; 0 when the source label determines the target label. */
  readonly value: number;
  readonly higherIsBetter: true;
}

/**
 * Negative conditional entropy of the target labels given the source labels the source model
 * assigns (e.g. its arg-max class on each target input).
 *
 * @remarks Tran, Nguyen & Hassner, "Transferability and Hardness of Supervised Classification
 * Tasks", ICCV 2019: NCE(Y | Z) = −H(Y | Z) = Σ_{y,z} P̂(y, z) log P̂(y | z), from the empirical
 * joint distribution of the two labelings over the same inputs.
 *
 * @example
 * ```ts
 * import { nce } from 'transferkit';
 *
 * nce([0, 0, 1, 1], [1, 1, 0, 0]); // Right({ value: 0, ... }): z determines y
 * ```
 */
export const nce = (sourceLabels: ReadonlyArray<number> | Int32Array, labels: Labels): E.Either<TransferError, NceResult> => {
  const y = checkLabels(labels);
  if (E.isLeft(y)) return y;
  const n = y.right.ids.length;
  // Source labels may all be one class (an uninformative source): only their form is checked.
  const zs = Array.from(sourceLabels as ArrayLike<number>);
  const bad = zs.findIndex((v) => !Number.isInteger(v) || v < 0);
  if (bad >= 0) return E.left(invalidArgument(`sourceLabels[${bad}]`, 'an integer class id ≥ 0', zs[bad]));
  if (zs.length !== n) return E.left(shapeMismatch('sourceLabels', `${n} labels (one per target label)`, `${zs.length} labels`));
  const zc = Math.max(...zs) + 1;
  const joint = new Float64Array(y.right.classes * zc);
  const marginal = new Float64Array(zc);
  for (let i = 0; i < n; i++) {
    const k = y.right.ids[i]! * zc + zs[i]!;
    joint[k] = joint[k]! + 1 / n;
    marginal[zs[i]!] = marginal[zs[i]!]! + 1 / n;
  }
  let value = 0;
  joint.forEach((p, k) => {
    if (p > 0) value += p * Math.log(p / marginal[k % zc]!);
  });
  return E.right({ value, higherIsBetter: true });
};
