import { either as E } from 'fp-ts';
import { guard, isRecord } from './boundary';
import { described, invalidArgument, shapeMismatch, within, type TransferError } from './errors';
import { matrix, type Matrix } from './matrix';

/** Class ids in an array: a plain array, or a typed array of integer values (e.g. a tensor's `dataSync()`). */
export type ClassIdArray = ReadonlyArray<number> | Int32Array | Uint8Array | Uint16Array | Uint32Array | Int8Array | Int16Array | Float32Array | Float64Array;

/** Target labels: one class id per example (sparse), or a one-hot matrix with a row per example. */
export type Labels = ClassIdArray | Matrix;

/** Checked labels: one class id per example, and the number of classes. */
export interface ClassIds {
  /** One class id per example, in 0…classes − 1. */
  readonly ids: Int32Array;
  /** How many classes: the count given, or one more than the largest id. */
  readonly classes: number;
}

/** The largest class id (and class count) a label may have: ids are stored as 32-bit integers. */
export const MAX_CLASS_ID = 2 ** 31 - 2;

const LABELS_EXPECTED = 'class ids (an array or typed array of integers ≥ 0, one per example) or a one-hot Matrix';

/** Whether a value is a {@link ClassIdArray}: an array, or a typed array of numbers (not a DataView, not 64-bit integers). */
export const isClassIdArray = (labels: unknown): labels is ClassIdArray => Array.isArray(labels) || (ArrayBuffer.isView(labels) && !(labels instanceof DataView) && !(labels instanceof BigInt64Array) && !(labels instanceof BigUint64Array));

const fromOneHot = (labels: Matrix, classes: number | undefined): E.Either<TransferError, Int32Array> => {
  const checked = matrix(labels.rows, labels.cols, labels.data);
  if (E.isLeft(checked)) return E.left(within('labels', checked.left));
  const m = checked.right;
  if (classes !== undefined && m.cols !== classes) {
    return E.left(shapeMismatch('labels', `one-hot rows of width ${classes} (the number of classes)`, `rows of width ${m.cols}`));
  }
  const ids = new Int32Array(m.rows);
  for (let i = 0; i < m.rows; i++) {
    const row = m.data.subarray(i * m.cols, (i + 1) * m.cols);
    const hot = row.indexOf(1);
    if (hot < 0 || row.some((v, j) => j !== hot && v !== 0)) {
      return E.left(invalidArgument(`labels row ${i}`, 'a one-hot row: a single 1, zeros elsewhere', row));
    }
    ids[i] = hot;
  }
  return E.right(ids);
};

const fromSparse = (labels: ClassIdArray, classes: number | undefined): E.Either<TransferError, Int32Array> => {
  const ids = new Int32Array(labels.length);
  const limit = classes === undefined ? MAX_CLASS_ID : classes - 1;
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > limit) {
      return E.left(invalidArgument(`labels[${i}]`, `an integer class id from 0 to ${limit}`, v));
    }
    ids[i] = v;
  }
  return E.right(ids);
};

/** The largest id, by a loop (a spread over a large array overflows the stack). */
const largest = (ids: Int32Array): number => {
  let max = -1;
  for (let i = 0; i < ids.length; i++) if (ids[i]! > max) max = ids[i]!;
  return max;
};

/**
 * Checks target labels and turns them into class ids.
 *
 * Sparse labels (an array, or any typed array of integer values) must be integers in [0, classes),
 * and at most {@link MAX_CLASS_ID}; one-hot rows must have a single 1 (tfjs would
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
 * @function
 */
export const checkLabels = guard('checkLabels', (labels: Labels, classes?: number, everyClass = true): E.Either<TransferError, ClassIds> => {
  if (classes !== undefined && !(typeof classes === 'number' && Number.isInteger(classes) && classes >= 2 && classes <= MAX_CLASS_ID + 1)) {
    return E.left(invalidArgument('classes', `an integer from 2 to ${MAX_CLASS_ID + 1}`, classes));
  }
  if (typeof everyClass !== 'boolean') return E.left(invalidArgument('everyClass', 'true or false', everyClass));
  const oneHot = !isClassIdArray(labels) && isRecord(labels) && 'data' in labels;
  if (!oneHot && !isClassIdArray(labels)) return E.left(invalidArgument('labels', LABELS_EXPECTED, labels));
  const ids = oneHot ? fromOneHot(labels as Matrix, classes) : fromSparse(labels as ClassIdArray, classes);
  if (E.isLeft(ids)) return ids;
  const n = ids.right.length;
  if (n === 0) return E.left(invalidArgument('labels', 'at least one labelled example', described('no labels')));
  const k = classes ?? (oneHot ? (labels as Matrix).cols : largest(ids.right) + 1);
  if (k < 2) return E.left(invalidArgument('labels', 'at least 2 classes', described(`only class ${k - 1}`)));
  if (!everyClass) return E.right({ ids: ids.right, classes: k });
  // The first class with no example. n labels cover at most n classes, so it is among the first
  // n + 1 whenever k > n: nothing as large as k is allocated.
  const slots = Math.min(k, n + 1);
  const present = new Uint8Array(slots);
  for (const id of ids.right) if (id < slots) present[id] = 1;
  const missing = present.indexOf(0);
  if (missing >= 0) {
    return E.left(invalidArgument('labels', `at least one example of every class 0…${k - 1}`, described(`no example of class ${missing}`)));
  }
  return E.right({ ids: ids.right, classes: k });
});
