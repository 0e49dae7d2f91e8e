import { either as E } from 'fp-ts';
import { guard } from './boundary';
import { invalidArgument, shapeMismatch, type TransferError } from './errors';
import { nonNegativeInteger } from './validate';

/**
 * A dense row-major matrix of 32-bit floats: row `i`, column `j` is `data[i * cols + j]`.
 *
 * This is how the core sees examples and embeddings: one row per example, one column per
 * feature. Tensors never leave `src/backends`; a backend hands the core a `Matrix`.
 */
export interface Matrix {
  /** Number of rows (examples). */
  readonly rows: number;
  /** Number of columns (features). */
  readonly cols: number;
  /** `rows * cols` values, row after row. */
  readonly data: Float32Array;
}

/**
 * Makes a {@link Matrix}, checking that `data` holds exactly `rows × cols` finite values.
 *
 * @param rows - number of rows, a non-negative integer
 * @param cols - number of columns, a non-negative integer
 * @param data - the values, row-major; kept as given (not copied), so do not mutate it afterwards
 * @returns the matrix, or `InvalidArgument` / `ShapeMismatch` saying what was wrong
 *
 * @example
 * ```ts
 * import { matrix } from 'transferkit';
 * import { either as E } from 'fp-ts';
 *
 * const m = matrix(2, 3, new Float32Array([1, 2, 3, 4, 5, 6]));
 * if (E.isRight(m)) console.log(m.right.data[1 * 3 + 2]); // 6 — row 1, column 2
 * ```
 * @function
 */
export const matrix = guard('matrix', (rows: number, cols: number, data: Float32Array): E.Either<TransferError, Matrix> => {
  const r = nonNegativeInteger('rows', rows);
  if (E.isLeft(r)) return r;
  const c = nonNegativeInteger('cols', cols);
  if (E.isLeft(c)) return c;
  if (!(data instanceof Float32Array)) return E.left(invalidArgument('data', 'a Float32Array', data));
  if (data.length !== rows * cols) {
    return E.left(shapeMismatch('data', `${rows} × ${cols} = ${rows * cols} values`, `${data.length} values`));
  }
  const bad = data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    return E.left(
      invalidArgument(`data[${bad}] (row ${Math.floor(bad / Math.max(cols, 1))})`, 'a finite number', data[bad]),
    );
  }
  return E.right({ rows, cols, data });
});

