import { either as E } from 'fp-ts';
import { guard } from '../core/boundary';
import { backendFailure, described, invalidArgument, type TransferError } from '../core/errors';
import type { Labels } from '../core/labels';
import type { Matrix } from '../core/matrix';
import { checkCount, checkLabelled, checkSample, checkSquare, MAX_MATRIX_ENTRIES } from './checks';
import { dense, gramCols, gramRows, symmetricEigen, transposeTimes, type Dense } from './linalg';

/** Result of {@link logme} and {@link logmeRegression}. */
export interface LogMeResult {
  /** Mean log evidence per example, averaged over classes (or target dimensions). */
  readonly value: number;
  /** Whether a larger value is better for transfer: true here, since a larger value means the features suit the target better. */
  readonly higherIsBetter: true;
  /** Each class's (or dimension's) own value. */
  readonly perTarget: ReadonlyArray<number>;
}

/**
 * The fixed-point stopping rule: at most 11 updates, stopping once α/β changes by less than 1e-3
 * (relative), as in the authors' procedure. It is part of the method's definition: when D ≥ N and
 * the features can fit a target exactly, β grows without bound, the evidence has no finite
 * maximiser, and the value is that of the last update.
 */
const MAX_ITERATIONS = 11;
const TOLERANCE = 1e-3;

/**
 * The spectrum of FᵀF and the targets in F's left singular basis, by the cheaper side: an n×n
 * eigenproblem on FFᵀ when N ≤ D, a D×D one on FᵀF when N > D (then zᵢ = vᵢᵀFᵀy / sᵢ).
 */
const spectrum = (f: Dense, y: Dense): { s2: Float64Array; z: Dense; rank: number } | undefined => {
  const k = y.cols;
  if (f.rows <= f.cols) {
    const eig = symmetricEigen(gramRows(f), y);
    return eig === undefined ? undefined : { s2: eig.values, z: eig.projected, rank: f.rows };
  }
  const eig = symmetricEigen(gramCols(f), transposeTimes(f, y));
  if (eig === undefined) return undefined;
  // Eigenvalues of FᵀF are only known to about ε·D·max σ²: below that, σᵢ² is rounding noise and
  // dividing by σᵢ would blow it up. Such directions are taken as σᵢ = 0 — the limit the evidence has
  // as σᵢ → 0 (their share of y then counts as outside F's span). (numpy's matrix_rank uses the
  // same kind of cut on singular values.)
  const noise = Number.EPSILON * f.cols * eig.values.reduce((a, b) => Math.max(a, b), 0);
  const z = dense(f.cols, k);
  eig.values.forEach((s2, i) => {
    if (s2 <= noise) {
      eig.values[i] = 0;
      return;
    }
    const s = Math.sqrt(s2);
    for (let j = 0; j < k; j++) z.data[i * k + j] = eig.projected.data[i * k + j]! / s;
  });
  return { s2: eig.values, z, rank: f.cols };
};

/**
 * Maximises the evidence of Bayesian linear regression y ≈ Fw over α (prior precision of w) and β
 * (noise precision) by the fixed-point updates, and returns the maximum log evidence / N.
 */
const evidence = (s2: Float64Array, z: Dense, column: number, yy: number, n: number, d: number): number => {
  const k = z.cols;
  const zi = Float64Array.from(s2, (_, i) => z.data[i * k + column]!);
  const s = s2.map((v) => Math.max(v, 0));
  // Features that are all zero (a dead ReLU layer) carry no information: α has no effect, since
  // D/2 log α and ½ log|A| = D/2 log α cancel, and the evidence is that of y as pure noise,
  // maximised at β = N / ‖y‖² (the fixed point would divide 0 by 0 here).
  if (s.every((v) => v === 0)) return 0.5 * Math.log(n / yy) - 0.5 * Math.log(2 * Math.PI) - 0.5;
  let captured = 0;
  zi.forEach((v) => (captured += v * v));
  const outside = Math.max(yy - captured, 0);
  let alpha = 1;
  let beta = 1;
  let mm = 0;
  let res = 0;
  for (let it = 0; it < MAX_ITERATIONS; it++) {
    const t = alpha / beta;
    let gamma = 0;
    mm = 0;
    res = outside;
    for (let i = 0; i < s.length; i++) {
      const denom = s[i]! + t;
      gamma += s[i]! / denom;
      mm += (s[i]! * zi[i]! * zi[i]!) / (denom * denom);
      res += ((t * zi[i]!) / denom) ** 2;
    }
    const nextAlpha = gamma / Math.max(mm, 1e-300);
    const nextBeta = (n - gamma) / Math.max(res, 1e-300);
    const nextT = nextAlpha / nextBeta;
    alpha = nextAlpha;
    beta = nextBeta;
    if (Math.abs(nextT - t) / t < TOLERANCE) break;
  }
  // Recompute m and the residual at the final α, β.
  const t = alpha / beta;
  mm = 0;
  res = outside;
  let logDetA = (d - s.length) * Math.log(alpha);
  for (let i = 0; i < s.length; i++) {
    const denom = s[i]! + t;
    mm += (s[i]! * zi[i]! * zi[i]!) / (denom * denom);
    res += ((t * zi[i]!) / denom) ** 2;
    logDetA += Math.log(alpha + beta * s[i]!);
  }
  const logEvidence =
    (n / 2) * Math.log(beta) + (d / 2) * Math.log(alpha) - (n / 2) * Math.log(2 * Math.PI) - (beta / 2) * res - (alpha / 2) * mm - logDetA / 2;
  return logEvidence / n;
};

const logmeOf = (f: Dense, y: Dense): E.Either<TransferError, LogMeResult> => {
  const size = checkSquare('features', f.rows <= f.cols ? 'rows' : 'features', Math.min(f.rows, f.cols));
  if (E.isLeft(size)) return size;
  const spec = spectrum(f, y);
  if (spec === undefined) return E.left(backendFailure('LogME', new Error('the eigenvalue iteration did not converge')));
  const perTarget = Array.from({ length: y.cols }, (_, j) => {
    let yy = 0;
    for (let i = 0; i < y.rows; i++) yy += y.data[i * y.cols + j]! ** 2;
    return evidence(spec.s2, spec.z, j, yy, f.rows, f.cols);
  });
  const value = perTarget.reduce((a, b) => a + b, 0) / perTarget.length;
  // The updates can overflow on extreme features (values near float32's limit): say so rather than return it.
  if (!Number.isFinite(value)) return E.left(backendFailure('LogME', new Error('the evidence is not finite (all-zero regression targets, or values near the float32 limit; rescale them)')));
  return E.right({ value, higherIsBetter: true, perTarget });
};

/**
 * LogME: how well features predict target labels, as the maximum evidence of a Bayesian linear
 * model from the features to each class's one-hot indicator, averaged over classes. Ranks layers
 * or pretrained models for one target without fine-tuning; it has no absolute scale.
 *
 * @remarks
 * You, Liu, Wang & Long, "LogME: Practical Assessment of Pre-trained Models for Transfer Learning",
 * ICML 2021: for each class k, y = 1[label = k]; maximise log p(y | F, α, β) =
 * N/2 log β + D/2 log α − N/2 log 2π − β/2 ‖Fm − y‖² − α/2 mᵀm − ½ log|A|, A = αI + βFᵀF,
 * m = βA⁻¹Fᵀy, by the fixed point α = γ/mᵀm, β = (N − γ)/‖Fm − y‖², γ = Σ βσᵢ²/(α + βσᵢ²); report
 * the mean over classes of the maximum / N (at most 11 updates, stopping at a relative change of
 * α/β below 1e-3, as the authors do). One eigendecomposition serves every class and every
 * iteration: of FFᵀ when N ≤ D, of FᵀF when N > D.
 *
 * @example
 * ```ts
 * import { logme, matrix } from 'transferkit';
 * import { either as E } from 'fp-ts';
 *
 * const features = matrix(6, 2, new Float32Array([1, 0, 0.9, 0.1, 1.1, 0, 0, 1, 0.1, 0.9, 0, 1.2]));
 * if (E.isRight(features)) console.log(logme(features.right, [0, 0, 0, 1, 1, 1]));
 * ```
 * @function
 */
export const logme = guard('logme', (features: Matrix, labels: Labels): E.Either<TransferError, LogMeResult> => {
  const checked = checkLabelled(features, labels);
  if (E.isLeft(checked)) return checked;
  const { f, ids: y, classes } = checked.right;
  if (y.length * classes > MAX_MATRIX_ENTRIES) {
    return E.left(invalidArgument('labels', `at most ${MAX_MATRIX_ENTRIES} labels × classes (the one-hot targets must fit in 1 GiB)`, described(`${y.length} labels of ${classes} classes`)));
  }
  const oneHot = dense(y.length, classes);
  y.forEach((c, i) => (oneHot.data[i * classes + c] = 1));
  return logmeOf(f, oneHot);
});

/**
 * LogME for regression targets: the same evidence with each target dimension as y, averaged.
 *
 * @example
 * ```ts
 * import { logmeRegression, matrix } from 'transferkit';
 * import { either as E } from 'fp-ts';
 *
 * const x = matrix(5, 1, new Float32Array([0, 1, 2, 3, 4]));
 * const y = matrix(5, 1, new Float32Array([0.1, 2.0, 3.9, 6.1, 8.0]));
 * if (E.isRight(x) && E.isRight(y)) console.log(logmeRegression(x.right, y.right));
 * ```
 * @function
 */
export const logmeRegression = guard('logmeRegression', (features: Matrix, targets: Matrix): E.Either<TransferError, LogMeResult> => {
  const f = checkSample('features', features);
  if (E.isLeft(f)) return f;
  const y = checkSample('targets', targets);
  if (E.isLeft(y)) return y;
  const count = checkCount(f.right, y.right.rows, 'targets');
  if (E.isLeft(count)) return count;
  return logmeOf(f.right, y.right);
});
