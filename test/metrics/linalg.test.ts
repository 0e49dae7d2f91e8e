/**
 * The eigensolver and Gram products, checked by what they must satisfy — on both paths: the
 * WebAssembly kernels (the default in Node) and the TypeScript loops used where they cannot run.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/random';
import { useWasmKernels } from '../../src/metrics/kernels/wasm';
import { dense, gramCols, gramRows, symmetricEigen, type Dense } from '../../src/metrics/linalg';

const random = (rows: number, cols: number, seed: number): Dense => {
  const r = seededRandom(seed);
  return dense(rows, cols, Float64Array.from({ length: rows * cols }, () => r() - 0.5));
};
const identity = (n: number): Dense => dense(n, n, Float64Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0)));

/** With B = I the solver returns Wᵀ: check Wᵀᵀ Λ Wᵀ = M and Wᵀ W = I. Returns the worst errors. */
const check = (m: Dense): { reconstruction: number; orthogonality: number } => {
  const n = m.rows;
  const { values, projected } = symmetricEigen(m, identity(n))!;
  let reconstruction = 0;
  let orthogonality = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let r = 0;
      let o = 0;
      for (let k = 0; k < n; k++) {
        r += projected.data[k * n + i]! * values[k]! * projected.data[k * n + j]!;
        o += projected.data[i * n + k]! * projected.data[j * n + k]!;
      }
      reconstruction = Math.max(reconstruction, Math.abs(r - m.data[i * n + j]!));
      orthogonality = Math.max(orthogonality, Math.abs(o - (i === j ? 1 : 0)));
    }
  }
  return { reconstruction, orthogonality };
};

describe.each([
  ['WebAssembly kernels', true],
  ['TypeScript loops', false],
])('%s', (_path, wasm) => {
  beforeEach(() => useWasmKernels(wasm));
  afterEach(() => useWasmKernels(true));

  describe('symmetricEigen', () => {
    it.each([1, 2, 3, 4, 7, 16, 40])('diagonalises a random symmetric %i×%i matrix', (n) => {
      const a = random(n, n, n);
      const m = dense(n, n, Float64Array.from({ length: n * n }, (_, i) => a.data[i]! + a.data[(i % n) * n + Math.floor(i / n)]!));
      const { reconstruction, orthogonality } = check(m);
      expect(reconstruction).toBeLessThan(1e-12);
      expect(orthogonality).toBeLessThan(1e-12);
    });

    it('handles columns that are already tridiagonal, repeated eigenvalues and rank deficiency', () => {
      const diagonal = dense(5, 5, Float64Array.from({ length: 25 }, (_, i) => (i % 6 === 0 ? [3, 1, 3, 2, 3][i / 6]! : 0)));
      expect(check(diagonal).reconstruction).toBeLessThan(1e-14);
      expect([...symmetricEigen(diagonal, identity(5))!.values].sort()).toEqual([1, 2, 3, 3, 3]);
      const tridiagonal = dense(4, 4, Float64Array.from([2, 1, 0, 0, 1, 2, 1, 0, 0, 1, 2, 1, 0, 0, 1, 2]));
      expect(check(tridiagonal).reconstruction).toBeLessThan(1e-14);
      const lowRank = gramRows(random(12, 3, 5)); // rank 3 in 12 dimensions
      const { reconstruction } = check(lowRank);
      expect(reconstruction).toBeLessThan(1e-12);
      expect([...symmetricEigen(lowRank, identity(12))!.values].filter((v) => Math.abs(v) > 1e-10)).toHaveLength(3);
    });

    it('projects given vectors without changing its inputs', () => {
      const m = gramRows(random(6, 9, 7));
      const before = Float64Array.from(m.data);
      const b = random(6, 2, 8);
      const bBefore = Float64Array.from(b.data);
      const full = symmetricEigen(m, identity(6))!;
      const some = symmetricEigen(m, b)!;
      for (let i = 0; i < 6; i++) {
        for (let c = 0; c < 2; c++) {
          let expected = 0;
          for (let k = 0; k < 6; k++) expected += full.projected.data[i * 6 + k]! * b.data[k * 2 + c]!;
          expect(some.projected.data[i * 2 + c]).toBeCloseTo(expected, 12);
        }
      }
      expect(m.data).toEqual(before);
      expect(b.data).toEqual(bBefore);
    });
  });

  describe('Gram products', () => {
    it.each([[1, 4], [5, 3], [9, 13], [33, 7]])('A·Aᵀ and Aᵀ·A of a %i×%i matrix match the definition', (rows, cols) => {
      const a = random(rows, cols, rows * cols);
      const aat = gramRows(a);
      const ata = gramCols(a);
      for (let i = 0; i < rows; i++) for (let j = 0; j < rows; j++) {
        let s = 0;
        for (let k = 0; k < cols; k++) s += a.data[i * cols + k]! * a.data[j * cols + k]!;
        expect(aat.data[i * rows + j]).toBeCloseTo(s, 12);
      }
      for (let i = 0; i < cols; i++) for (let j = 0; j < cols; j++) {
        let s = 0;
        for (let k = 0; k < rows; k++) s += a.data[k * cols + i]! * a.data[k * cols + j]!;
        expect(ata.data[i * cols + j]).toBeCloseTo(s, 12);
      }
    });
  });
});
