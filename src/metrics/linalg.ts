/**
 * The dense linear algebra the metrics need, in float64 on plain typed arrays (row-major).
 *
 * The symmetric eigensolver reduces the matrix to tridiagonal form with Householder reflections,
 * then diagonalises it with implicit QL iterations (the classical pair described in Golub & Van
 * Loan, "Matrix Computations", §8.3, and Wilkinson & Reinsch's Handbook). It never forms the
 * eigenvectors: callers pass the few vectors they need in the eigenbasis (`B`), and every reflection
 * and rotation is applied to those instead — O(n²k) work for k vectors on top of the O(n³)
 * reduction, instead of accumulating an n×n basis.
 *
 * The three O(n³) loops — the Gram matrix, and the symmetric mat-vec and rank-2 update of each
 * reduction step — run as WebAssembly SIMD kernels (kernels/linalg.wat) where the runtime has them,
 * and as the TypeScript loops below otherwise; the two agree to rounding.
 */
import { hasLinalgKernels, linalgKernels, MAX_KERNEL_BYTES, type LinalgKernels } from './kernels/wasm';

/** A dense row-major float64 matrix. */
export interface Dense {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

export const dense = (rows: number, cols: number, data = new Float64Array(rows * cols)): Dense => ({ rows, cols, data });

/**
 * A · Aᵀ (rows × rows). Loads, not arithmetic, limit this: each row meets every other. So a 2 × 4
 * block of the result is computed at once (six loads serve eight products), keeping eight sums in
 * registers. (Splitting the columns into cache-sized chunks was measured and was slower.)
 */
export const gramRows = (a: Dense): Dense => {
  const n = a.rows;
  const g = gramLowerWasm(a) ?? gramLowerTs(a);
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) g[j * n + i] = g[i * n + j]!;
  return dense(n, n, g);
};

/** Byte addresses are kept 16-aligned for the SIMD loads. */
const align16 = (bytes: number): number => Math.ceil(bytes / 16) * 16;

/** The lower triangle of A·Aᵀ by the WebAssembly kernel, or undefined where it cannot run. */
const gramLowerWasm = (a: Dense): Float64Array<ArrayBuffer> | undefined => {
  const kernels = linalgKernels();
  const { rows: n, cols: d } = a;
  const at = align16(n * d * 8);
  if (kernels === undefined || !kernels.reserve(at + n * n * 8)) return undefined;
  kernels.f64().set(a.data);
  kernels.gramLower(0, n, d, at);
  return kernels.f64().slice(at / 8, at / 8 + n * n);
};

const gramLowerTs = (a: Dense): Float64Array<ArrayBuffer> => {
  const { rows: n, cols: d, data: x } = a;
  const g = new Float64Array(n * n);
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const a0 = i * d;
    const a1 = a0 + d;
    // Columns j < i of rows i and i+1, four at a time, then the rest one by one.
    let j = 0;
    for (; j + 3 < i; j += 4) {
      const b0 = j * d;
      const b1 = b0 + d;
      const b2 = b1 + d;
      const b3 = b2 + d;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0; // prettier-ignore
      for (let k = 0; k < d; k++) {
        const x0 = x[a0 + k]!;
        const x1 = x[a1 + k]!;
        const y0 = x[b0 + k]!;
        const y1 = x[b1 + k]!;
        const y2 = x[b2 + k]!;
        const y3 = x[b3 + k]!;
        s00 += x0 * y0;
        s01 += x0 * y1;
        s02 += x0 * y2;
        s03 += x0 * y3;
        s10 += x1 * y0;
        s11 += x1 * y1;
        s12 += x1 * y2;
        s13 += x1 * y3;
      }
      const r0 = i * n + j;
      const r1 = r0 + n;
      g[r0] = s00;
      g[r0 + 1] = s01;
      g[r0 + 2] = s02;
      g[r0 + 3] = s03;
      g[r1] = s10;
      g[r1 + 1] = s11;
      g[r1 + 2] = s12;
      g[r1 + 3] = s13;
    }
    for (; j <= i + 1; j++) {
      const b = j * d;
      let s0 = 0;
      let s1 = 0;
      for (let k = 0; k < d; k++) {
        s0 += x[a0 + k]! * x[b + k]!;
        s1 += x[a1 + k]! * x[b + k]!;
      }
      if (j <= i) g[i * n + j] = s0;
      g[(i + 1) * n + j] = s1;
    }
  }
  for (; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += x[i * d + k]! * x[j * d + k]!;
      g[i * n + j] = s;
    }
  }
  return g;
};

/**
 * Aᵀ · A (cols × cols). With the WebAssembly kernels: A is transposed and its rows' Gram matrix
 * taken (LogME on 5,000 × 512 features, which takes this path, runs 7–9× faster with the kernels:
 * `npm run bench -- logme`, docs/benchmarks.md). Without them: accumulated row by row, so the
 * inner loop runs over contiguous memory and skips zeros (ReLU features have many).
 */
export const gramCols = (a: Dense): Dense => {
  const { rows: n, cols: d, data } = a;
  // (Only when the kernel's memory can hold it; the transposed copy would otherwise be wasted.)
  if (hasLinalgKernels() && 8 * (n * d + d * d) + 16 <= MAX_KERNEL_BYTES) {
    const t = new Float64Array(n * d);
    for (let r = 0; r < n; r++) for (let c = 0; c < d; c++) t[c * n + r] = data[r * d + c]!;
    return gramRows(dense(d, n, t));
  }
  const g = new Float64Array(d * d);
  for (let r = 0; r < n; r++) {
    const o = r * d;
    for (let i = 0; i < d; i++) {
      const v = data[o + i]!;
      if (v === 0) continue;
      const gi = i * d;
      for (let j = 0; j <= i; j++) g[gi + j] = g[gi + j]! + v * data[o + j]!;
    }
  }
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) g[j * d + i] = g[i * d + j]!;
  return dense(d, d, g);
};

/** Aᵀ · B (a.cols × b.cols) for A, B with the same number of rows. */
export const transposeTimes = (a: Dense, b: Dense): Dense => {
  const out = new Float64Array(a.cols * b.cols);
  for (let r = 0; r < a.rows; r++) {
    for (let i = 0; i < a.cols; i++) {
      const v = a.data[r * a.cols + i]!;
      if (v === 0) continue;
      for (let j = 0; j < b.cols; j++) out[i * b.cols + j] = out[i * b.cols + j]! + v * b.data[r * b.cols + j]!;
    }
  }
  return dense(a.cols, b.cols, out);
};

/**
 * Reduces symmetric `m` (overwritten) to tridiagonal T = Qᵀ M Q, applying Qᵀ to the rows of `b`
 * (overwritten). Returns T's diagonal and sub-diagonal (`e[i]` couples i and i+1; `e[n−1] = 0`).
 */
export const tridiagonalize = (m: Float64Array, n: number, b: Float64Array, k: number): { d: Float64Array; e: Float64Array } => {
  const work = reductionWork(m, n);
  const { m: a, v, p } = work;
  const w = new Float64Array(k);
  for (let c = 0; c < n - 2; c++) {
    // Householder vector v for column c below the diagonal: (I − 2vvᵀ/vᵀv) x = ∓‖x‖ e₁.
    let below = 0;
    for (let i = c + 2; i < n; i++) below += a[i * n + c]! ** 2;
    if (below === 0) continue; // the column is already tridiagonal
    const x0 = a[(c + 1) * n + c]!;
    const norm = Math.sqrt(below + x0 * x0);
    const alpha = x0 > 0 ? -norm : norm;
    v.fill(0);
    for (let i = c + 1; i < n; i++) v[i] = a[i * n + c]!;
    v[c + 1] = x0 - alpha;
    let vv = 0;
    for (let i = c + 1; i < n; i++) vv += v[i]! ** 2;
    if (vv === 0) continue;
    const tau = 2 / vv;
    // Only the lower triangle of the trailing block is read and kept up to date.
    // p = τ M v (symmetric mat-vec over the lower triangle), then q = p − (τ/2)(pᵀv) v,
    // then M ← M − v qᵀ − q vᵀ on the lower triangle.
    p.fill(0, c + 1);
    work.symv(c + 1);
    let pv = 0;
    for (let i = c + 1; i < n; i++) {
      p[i] = tau * p[i]!;
      pv += p[i]! * v[i]!;
    }
    const half = (tau / 2) * pv;
    for (let i = c + 1; i < n; i++) p[i] = p[i]! - half * v[i]!;
    work.rank2(c + 1);
    a[(c + 1) * n + c] = alpha;
    a[c * n + c + 1] = alpha;
    for (let i = c + 2; i < n; i++) {
      a[i * n + c] = 0;
      a[c * n + i] = 0;
    }
    // Rows of b: b ← (I − τ v vᵀ) b.
    w.fill(0);
    for (let i = c + 1; i < n; i++) {
      const vi = v[i]!;
      if (vi === 0) continue;
      for (let j = 0; j < k; j++) w[j] = w[j]! + vi * b[i * k + j]!;
    }
    for (let i = c + 1; i < n; i++) {
      const s = tau * v[i]!;
      if (s === 0) continue;
      for (let j = 0; j < k; j++) b[i * k + j] = b[i * k + j]! - s * w[j]!;
    }
  }
  work.finish();
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = m[i * n + i]!;
  for (let i = 0; i < n - 1; i++) e[i] = m[(i + 1) * n + i]!;
  return { d, e };
};

/**
 * Where one reduction runs: the matrix and the vectors v, p it works on, and the two trailing-block
 * operations (`from` is the block's first index) — in WebAssembly memory when the kernels are
 * available, else on the caller's array. `finish` leaves the reduced matrix in the caller's `m`.
 */
interface ReductionWork {
  readonly m: Float64Array;
  readonly v: Float64Array;
  readonly p: Float64Array;
  /** p += M·v, reading M's lower triangle. */
  readonly symv: (from: number) => void;
  /** M ← M − v·pᵀ − p·vᵀ on the lower triangle. */
  readonly rank2: (from: number) => void;
  readonly finish: () => void;
}

const reductionWork = (m: Float64Array, n: number): ReductionWork => {
  const kernels = linalgKernels();
  return (kernels && wasmReductionWork(kernels, m, n)) ?? tsReductionWork(m, n);
};

const wasmReductionWork = (kernels: LinalgKernels, m: Float64Array, n: number): ReductionWork | undefined => {
  const vAt = align16(n * n * 8);
  const pAt = vAt + align16(n * 8);
  if (!kernels.reserve(pAt + n * 8)) return undefined;
  const memory = kernels.f64(); // the memory does not grow again, so these views stay valid
  const a = memory.subarray(0, n * n);
  a.set(m);
  return {
    m: a,
    v: memory.subarray(vAt / 8, vAt / 8 + n),
    p: memory.subarray(pAt / 8, pAt / 8 + n),
    symv: (from) => kernels.symvLower(0, n, from, vAt, pAt),
    rank2: (from) => kernels.rank2Lower(0, n, from, vAt, pAt),
    finish: () => m.set(a),
  };
};

const tsReductionWork = (m: Float64Array, n: number): ReductionWork => {
  const v = new Float64Array(n);
  const p = new Float64Array(n);
  return { m, v, p, symv: (from) => symvLower(m, n, from, v, p), rank2: (from) => rank2Lower(m, n, from, v, p), finish: () => undefined };
};

/** p += M·v over indices ≥ from, reading only M's lower triangle: each element serves its row and its column. */
const symvLower = (m: Float64Array, n: number, from: number, v: Float64Array, p: Float64Array): void => {
  for (let i = from; i < n; i++) {
    const oi = i * n;
    const vi = v[i]!;
    let s0 = m[oi + i]! * vi;
    let s1 = 0;
    let j = from;
    for (; j + 1 < i; j += 2) {
      const a0 = m[oi + j]!;
      const a1 = m[oi + j + 1]!;
      s0 += a0 * v[j]!;
      s1 += a1 * v[j + 1]!;
      p[j] = p[j]! + a0 * vi;
      p[j + 1] = p[j + 1]! + a1 * vi;
    }
    for (; j < i; j++) {
      const a = m[oi + j]!;
      s0 += a * v[j]!;
      p[j] = p[j]! + a * vi;
    }
    p[i] = p[i]! + s0 + s1;
  }
};

/** M ← M − v·qᵀ − q·vᵀ on the lower triangle (with the diagonal), indices ≥ from. */
const rank2Lower = (m: Float64Array, n: number, from: number, v: Float64Array, q: Float64Array): void => {
  for (let i = from; i < n; i++) {
    const oi = i * n;
    const vi = v[i]!;
    const qi = q[i]!;
    for (let j = from; j <= i; j++) m[oi + j] = m[oi + j]! - vi * q[j]! - qi * v[j]!;
  }
};

/**
 * Diagonalises a symmetric tridiagonal matrix in place by implicit QL iterations with Wilkinson
 * shifts; each plane rotation is applied to the rows of `b` (k columns). Returns false if an
 * eigenvalue failed to converge in 60 iterations.
 */
export const tridiagonalQL = (d: Float64Array, e: Float64Array, n: number, b: Float64Array, k: number): boolean => {
  // An off-diagonal element is negligible relative to its neighbours, or to the whole matrix: the
  // second test lets clusters of eigenvalues at rounding level (a rank-deficient Gram matrix) deflate,
  // and changes the spectrum by no more than the reduction's own rounding.
  let norm = 0;
  for (let i = 0; i < n; i++) norm = Math.max(norm, Math.abs(d[i]!) + Math.abs(e[i]!) + (i > 0 ? Math.abs(e[i - 1]!) : 0));
  const floor = Number.EPSILON * norm;
  for (let l = 0; l < n; l++) {
    for (let iter = 0; ; iter++) {
      let m = l;
      for (; m < n - 1; m++) {
        const dd = Math.abs(d[m]!) + Math.abs(d[m + 1]!);
        if (Math.abs(e[m]!) <= Math.max(Number.EPSILON * dd, floor)) break;
      }
      if (m === l) break;
      if (iter === 60) return false;
      let g = (d[l + 1]! - d[l]!) / (2 * e[l]!);
      let r = Math.hypot(g, 1);
      g = d[m]! - d[l]! + e[l]! / (g + (g >= 0 ? r : -r));
      let s = 1;
      let c = 1;
      let p = 0;
      let i = m - 1;
      let underflow = false;
      for (; i >= l; i--) {
        const f = s * e[i]!;
        const bb = c * e[i]!;
        r = Math.hypot(f, g);
        e[i + 1] = r;
        if (r === 0) {
          d[i + 1] = d[i + 1]! - p;
          e[m] = 0;
          underflow = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1]! - p;
        r = (d[i]! - g) * s + 2 * c * bb;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - bb;
        // The same rotation on rows i and i+1 of b.
        const oi = i * k;
        const o1 = (i + 1) * k;
        for (let j = 0; j < k; j++) {
          const bi = b[oi + j]!;
          const b1 = b[o1 + j]!;
          b[o1 + j] = s * bi + c * b1;
          b[oi + j] = c * bi - s * b1;
        }
      }
      if (underflow) continue;
      d[l] = d[l]! - p;
      e[l] = g;
      e[m] = 0;
    }
  }
  return true;
};

/**
 * Eigenvalues of symmetric `m` (n×n) and Wᵀ·B, where M = W Λ Wᵀ and B is n×k: the columns of B
 * expressed in the eigenbasis. Neither input is changed. `undefined` if the QL iteration fails to
 * converge (it does not in practice for finite input).
 */
export const symmetricEigen = (m: Dense, b: Dense): { values: Float64Array; projected: Dense } | undefined => {
  const n = m.rows;
  const a = Float64Array.from(m.data);
  const out = Float64Array.from(b.data);
  const { d, e } = tridiagonalize(a, n, out, b.cols);
  return tridiagonalQL(d, e, n, out, b.cols) ? { values: d, projected: dense(n, b.cols, out) } : undefined;
};

/** Unbiased feature covariance of the rows of x (features × features, row-major). */
export const covariance = (x: Dense): Float64Array<ArrayBuffer> => {
  const { rows: n, cols: d } = x;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] = mean[j]! + x.data[i * d + j]! / n;
  const centred = Float64Array.from(x.data, (v, i) => v - mean[i % d]!);
  return Float64Array.from(gramCols({ rows: n, cols: d, data: centred }).data, (v) => v / (n - 1));
};
