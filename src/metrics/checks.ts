import { either as E } from 'fp-ts';
import { described, invalidArgument, shapeMismatch, within, type TransferError } from '../core/errors';
import { checkLabels, type ClassIds, type Labels } from '../core/labels';
import { matrix, type Matrix } from '../core/matrix';
import { dense, type Dense } from './linalg';

/** A checked sample: at least `minRows` rows of finite values, as float64 for the arithmetic. */
export const checkSample = (path: string, m: Matrix, minRows = 2): E.Either<TransferError, Dense> => {
  if (typeof m !== 'object' || m === null) return E.left(invalidArgument(path, 'a Matrix { rows, cols, data }', m));
  const ok = matrix(m.rows, m.cols, m.data);
  if (E.isLeft(ok)) return E.left(within(path, ok.left));
  if (m.rows < minRows) return E.left(invalidArgument(`${path}.rows`, `at least ${minRows} samples`, m.rows));
  if (m.cols < 1) return E.left(invalidArgument(`${path}.cols`, 'at least one feature', m.cols));
  return E.right(dense(m.rows, m.cols, Float64Array.from(m.data)));
};

/** Two samples over the same features. */
export const checkPair = (a: Matrix, b: Matrix, names: [string, string] = ['source', 'target']): E.Either<TransferError, [Dense, Dense]> => {
  const x = checkSample(names[0], a);
  if (E.isLeft(x)) return x;
  const y = checkSample(names[1], b);
  if (E.isLeft(y)) return y;
  return x.right.cols === y.right.cols
    ? E.right([x.right, y.right])
    : E.left(shapeMismatch(`${names[1]}.cols`, `${x.right.cols} features, as ${names[0]} has`, `${y.right.cols}`));
};

/** Row count of features and labels must agree. */
export const checkCount = (features: Dense, count: number, path = 'labels'): E.Either<TransferError, void> =>
  features.rows === count ? E.right(undefined) : E.left(shapeMismatch(path, `${features.rows} labels (one per feature row)`, `${count} labels`));

/** A matrix of probabilities: non-negative rows that sum to 1 (within 1e-3). */
export const checkProbabilities = (path: string, m: Matrix): E.Either<TransferError, Dense> => {
  const checked = checkSample(path, m);
  if (E.isLeft(checked)) return checked;
  const { rows, cols, data } = checked.right;
  for (let i = 0; i < rows; i++) {
    let sum = 0;
    for (let j = 0; j < cols; j++) {
      const v = data[i * cols + j]!;
      if (v < 0) return E.left(invalidArgument(`${path} row ${i}`, 'probabilities ≥ 0', v));
      sum += v;
    }
    if (Math.abs(sum - 1) > 1e-3) return E.left(invalidArgument(`${path} row ${i}`, 'probabilities summing to 1', described(`a row summing to ${sum}`)));
  }
  return checked;
};

/**
 * Features (or, with `check`, e.g. probabilities) and one class label per row: the checks every
 * label-based score starts with.
 */
export const checkLabelled = (
  features: Matrix,
  labels: Labels,
  check: (path: string, m: Matrix) => E.Either<TransferError, Dense> = checkSample,
  path = 'features',
): E.Either<TransferError, { readonly f: Dense } & ClassIds> => {
  const f = check(path, features);
  if (E.isLeft(f)) return f;
  const ids = checkLabels(labels);
  if (E.isLeft(ids)) return ids;
  const count = checkCount(f.right, ids.right.ids.length);
  if (E.isLeft(count)) return count;
  return E.right({ f: f.right, ...ids.right });
};

/**
 * The most float64 entries one working matrix of a metric may hold: 2²⁷ (1 GiB). A Gram or
 * kernel matrix grows with the square of the sample (MMD: rows², LogME: min(rows, features)²,
 * CORAL and H-score: features²); past this a metric returns an error instead of failing to
 * allocate, and the sample should be subsampled.
 */
export const MAX_MATRIX_ENTRIES = 2 ** 27;

/** `side × side` entries fit in {@link MAX_MATRIX_ENTRIES}; else an error that says what does. */
export const checkSquare = (path: string, what: string, side: number): E.Either<TransferError, void> =>
  side * side <= MAX_MATRIX_ENTRIES
    ? E.right(undefined)
    : E.left(invalidArgument(path, `at most ${Math.floor(Math.sqrt(MAX_MATRIX_ENTRIES))} ${what} (its ${what}² matrix must fit in 1 GiB; subsample)`, side));
