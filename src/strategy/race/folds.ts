/**
 * Stratified k-fold splits for the validation race (Kohavi, "A Study of Cross-Validation and
 * Bootstrap for Accuracy Estimation and Model Selection", IJCAI 1995: stratified folds give the
 * least biased, least variable estimates): each class's examples, in a seeded order, are dealt to
 * the folds in turn, so every fold holds each class in proportion.
 */
import { either as E } from 'fp-ts';
import { invalidArgument, type TransferError } from '../../core/errors';
import { permutation, seededRandom } from '../../core/random';

/** Each class needs at least this many labelled examples: one to train on and one to validate on in some fold. */
export const MIN_EXAMPLES_PER_CLASS = 2;

/** One fold: the rows a candidate trains on and the rows it is scored on. */
export interface Fold {
  readonly train: Int32Array;
  readonly validation: Int32Array;
}

/**
 * `k` stratified folds over labels `ids` (class ids 0…classes−1), dealt in an order seeded by
 * `seed`. `InvalidArgument` when a class has fewer than {@link MIN_EXAMPLES_PER_CLASS} examples,
 * naming it and the minimum.
 */
export const stratifiedFolds = (ids: Int32Array, classes: number, k: number, seed: number): E.Either<TransferError, Fold[]> => {
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  ids.forEach((c, i) => byClass[c]?.push(i));
  const short = byClass.findIndex((rows) => rows.length < MIN_EXAMPLES_PER_CLASS);
  if (short >= 0) {
    return E.left(
      invalidArgument('data.y', `at least ${MIN_EXAMPLES_PER_CLASS} labelled examples of every class, to train on one and validate on another`, `${byClass[short]!.length} of class ${short}`),
    );
  }
  const order = permutation(ids.length, seededRandom(seed));
  const rank = new Int32Array(ids.length);
  order.forEach((row, position) => (rank[row] = position));
  const foldOf = new Int32Array(ids.length);
  let next = 0;
  for (const rows of byClass) {
    // Each class starts where the last one stopped, so the folds' sizes differ by at most one.
    for (const row of [...rows].sort((a, b) => rank[a]! - rank[b]!)) foldOf[row] = next++ % k;
  }
  return E.right(
    Array.from({ length: k }, (_, f) => ({
      train: Int32Array.from(ids.keys()).filter((i) => foldOf[i] !== f),
      validation: Int32Array.from(ids.keys()).filter((i) => foldOf[i] === f),
    })),
  );
};
