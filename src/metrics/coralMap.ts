import { either as E } from 'fp-ts';
import { guard } from '../core/boundary';
import { backendFailure, type TransferError } from '../core/errors';
import { matrix, type Matrix } from '../core/matrix';
import { checkPair, checkSquare } from './checks';
import { covariance, dense, symmetricEigen, type Dense } from './linalg';

/** Result of {@link coralMap}: the affine map x ↦ x·A + c. */
export interface CoralMap {
  /** A, features × features. */
  readonly map: Matrix;
  /** c, one value per feature. */
  readonly shift: Float32Array;
}

/** Mean and covariance plus the identity (CORAL's regularisation). */
const moments = (x: Dense): { mean: Float64Array; cov: Dense } => {
  const { rows: n, cols: d } = x;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] = mean[j]! + x.data[i * d + j]! / n;
  const cov = dense(d, d, covariance(x));
  for (let j = 0; j < d; j++) cov.data[j * d + j] = cov.data[j * d + j]! + 1;
  return { mean, cov };
};

/** C^p for symmetric positive definite C: W Λ^p Wᵀ. */
const power = (c: Dense, p: number): Dense | undefined => {
  const d = c.rows;
  const identity = dense(d, d);
  for (let j = 0; j < d; j++) identity.data[j * d + j] = 1;
  const eigen = symmetricEigen(c, identity);
  if (eigen === undefined) return undefined;
  const wt = eigen.projected.data; // Wᵀ: row k is eigenvector k
  const out = dense(d, d);
  for (let k = 0; k < d; k++) {
    const scale = Math.max(eigen.values[k]!, 1e-12) ** p;
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) out.data[i * d + j] = out.data[i * d + j]! + wt[k * d + i]! * scale * wt[k * d + j]!;
  }
  return out;
};

/**
 * The CORAL map that moves target features onto the source's first and second moments:
 * x ↦ (x − μ_t) C_t^(−1/2) C_s^(1/2) + μ_s, with C = the covariance plus the identity. A classifier
 * trained on the source then reads target features as it read its own.
 *
 * @remarks Sun, Feng & Saenko, "Return of Frustratingly Easy Domain Adaptation", AAAI 2016,
 * Algorithm 1, which whitens the source and recolours it with the target's covariance and then
 * trains a classifier on it; this is the same alignment the other way round (the target whitened
 * and recoloured with the source's), so the source's own classifier is kept and nothing trains.
 * The means are matched too.
 *
 * @param source - source features, one row per example
 * @param target - target features over the same columns
 *
 * @example
 * ```ts
 * import { coralMap, matrix } from 'transferkit';
 * import { either as E } from 'fp-ts';
 *
 * const s = matrix(4, 1, new Float32Array([0, 1, 2, 3]));
 * const t = matrix(4, 1, new Float32Array([10, 12, 14, 16]));
 * if (E.isRight(s) && E.isRight(t)) console.log(coralMap(s.right, t.right));
 * ```
 * @function
 */
export const coralMap = guard('coralMap', (source: Matrix, target: Matrix): E.Either<TransferError, CoralMap> => {
  const pair = checkPair(source, target);
  if (E.isLeft(pair)) return pair;
  const [s, t] = pair.right;
  const size = checkSquare('source.cols', 'features', s.cols);
  if (E.isLeft(size)) return size;
  const d = s.cols;
  const ms = moments(s);
  const mt = moments(t);
  const whiten = power(mt.cov, -0.5);
  const colour = power(ms.cov, 0.5);
  if (whiten === undefined || colour === undefined) return E.left(backendFailure('coralMap', new Error('the eigensolver did not converge')));
  const a = new Float32Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      let v = 0;
      for (let k = 0; k < d; k++) v += whiten.data[i * d + k]! * colour.data[k * d + j]!;
      a[i * d + j] = v;
    }
  }
  const shift = new Float32Array(d);
  for (let j = 0; j < d; j++) {
    let v = ms.mean[j]!;
    for (let i = 0; i < d; i++) v -= mt.mean[i]! * a[i * d + j]!;
    shift[j] = v;
  }
  return E.map((map: Matrix): CoralMap => ({ map, shift }))(matrix(d, d, a));
});
