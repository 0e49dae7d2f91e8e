import { either as E } from 'fp-ts';
import { described, invalidArgument, shapeMismatch, type TransferError } from './errors';
import type { Matrix } from './matrix';

/** Target labels: one class id per example (sparse), or a one-hot matrix with a row per example. */
export type Labels = ReadonlyArray<number> | Int32Array | Matrix;

/** Checked labels: one class id per example, and the number of classes. */
export interface ClassIds {
  readonly ids: Int32Array;
  readonly classes: number;
}

const isMatrix = (labels: Labels): labels is Matrix => !Array.isArray(labels) && !(labels instanceof Int32Array);

const fromOneHot = (m: Matrix, classes: number | undefined): E.Either<TransferError, Int32Array> => {
  if (classes !== undefined && m.cols !== classes) {
    return E.left(shapeMismatch('labels', `one-hot rows of width ${classes} (the number of classes)`, `rows of width ${m.cols}`));
  }
  const ids = new Int32Array(m.rows);
  for (let i = 0; i < m.rows; i++) {
    const row = m.data.subarray(i * m.cols, (i + 1) * m.cols);
    const hot = row.findIndex((v) => v === 1);
    if (hot < 0 || row.some((v, j) => j !== hot && v !== 0)) {
      return E.left(invalidArgument(`labels row ${i}`, 'a one-hot row: a single 1, zeros elsewhere', row));
    }
    ids[i] = hot;
  }
  return E.right(ids);
};

const fromSparse = (labels: ReadonlyArray<number> | Int32Array, classes: number | undefined): E.Either<TransferError, Int32Array> => {
  const ids = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i];
    const max = classes === undefined ? '' : ` < ${classes}`;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || (classes !== undefined && v >= classes)) {
      return E.left(invalidArgument(`labels[${i}]`, `an integer class id ≥ 0${max}`, v));
    }
    ids[i] = v;
  }
  return E.right(ids);
};

/**
 * Checks target labels and turns them into class ids.
 *
 * Sparse labels must be integers in [0, classes); one-hot rows must have a single 1 (tfjs would
 * not say so: out-of-range sparse labels give a loss of exactly 0 there). For training data every
 * class must have at least one example, since a class with none cannot be learned; a test or
 * validation set may lack some (`everyClass: false`). Without `classes`, the number of classes is
 * the one-hot width, or the largest id + 1.
 *
 * @example
 * ```ts
 * import { checkLabels } from 'transferkit';
 *
 * checkLabels([0, 1, 1, 0]); // Right({ ids: Int32Array [0, 1, 1, 0], classes: 2 })
 * checkLabels([0, 2], 3); // Left: class 1 has no example
 * ```
 */
export const checkLabels = (labels: Labels, classes?: number, everyClass = true): E.Either<TransferError, ClassIds> => {
  if (classes !== undefined && !(Number.isInteger(classes) && classes >= 2)) {
    return E.left(invalidArgument('classes', 'an integer ≥ 2', classes));
  }
  const ids = isMatrix(labels) ? fromOneHot(labels, classes) : fromSparse(labels, classes);
  if (E.isLeft(ids)) return ids;
  const n = ids.right.length;
  if (n === 0) return E.left(invalidArgument('labels', 'at least one labelled example', described('no labels')));
  const k = classes ?? (isMatrix(labels) ? labels.cols : Math.max(...ids.right) + 1);
  if (k < 2) return E.left(invalidArgument('labels', 'at least 2 classes', described(`only class ${k - 1}`)));
  const counts = new Int32Array(k);
  for (const id of ids.right) counts[id]! += 1;
  const missing = everyClass ? counts.findIndex((c) => c === 0) : -1;
  if (missing >= 0) {
    return E.left(invalidArgument('labels', `at least one example of every class 0…${k - 1}`, described(`no example of class ${missing}`)));
  }
  return E.right({ ids: ids.right, classes: k });
};
