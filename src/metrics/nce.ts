import { either as E } from 'fp-ts';
import { guard } from '../core/boundary';
import { invalidArgument, shapeMismatch, type TransferError } from '../core/errors';
import { checkLabels, isClassIdArray, MAX_CLASS_ID, type ClassIdArray, type Labels } from '../core/labels';

/** Result of {@link nce}. */
export interface NceResult {
  /** −H(Y | Z) in nats, ≤ 0; 0 when the source label determines the target label. */
  readonly value: number;
  /** Whether a larger value is better for transfer: true here, since a larger value means the features suit the target better. */
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
 * @function
 */
export const nce = guard('nce', (sourceLabels: ClassIdArray, labels: Labels): E.Either<TransferError, NceResult> => {
  const y = checkLabels(labels);
  if (E.isLeft(y)) return y;
  const n = y.right.ids.length;
  // Source labels may all be one class (an uninformative source): only their form is checked.
  if (!isClassIdArray(sourceLabels)) {
    return E.left(invalidArgument('sourceLabels', 'class ids (an array or typed array of integers ≥ 0)', sourceLabels));
  }
  const zs = sourceLabels as ArrayLike<unknown>;
  if (zs.length !== n) return E.left(shapeMismatch('sourceLabels', `${n} labels (one per target label)`, `${zs.length} labels`));
  // Counted by the (y, z) pairs that occur, so a large source id costs nothing (Tran et al.'s
  // empirical joint needs no table of every id up to the largest).
  const joint = new Map<string, number>();
  const marginal = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const z = zs[i];
    if (typeof z !== 'number' || !Number.isInteger(z) || z < 0 || z > MAX_CLASS_ID) {
      return E.left(invalidArgument(`sourceLabels[${i}]`, `an integer class id from 0 to ${MAX_CLASS_ID}`, z));
    }
    const key = `${y.right.ids[i]!},${z}`;
    joint.set(key, (joint.get(key) ?? 0) + 1);
    marginal.set(z, (marginal.get(z) ?? 0) + 1);
  }
  let value = 0;
  for (const [key, count] of joint) {
    const z = Number(key.slice(key.indexOf(',') + 1));
    value += (count / n) * Math.log(count / marginal.get(z)!);
  }
  return E.right({ value, higherIsBetter: true });
});
