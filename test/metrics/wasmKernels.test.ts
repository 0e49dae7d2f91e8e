/**
 * The WebAssembly kernels behind the eigensolver: the committed module is the one its .wat text
 * assembles to, it runs here, and it computes what the TypeScript loops compute.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/random';
import { assemble, MODULES, source } from '../../scripts/buildWasm';
import { linalgKernels, useWasmKernels } from '../../src/metrics/kernels/wasm';
import { dense, gramRows, symmetricEigen, tridiagonalize, type Dense } from '../../src/metrics/linalg';

const random = (rows: number, cols: number, seed: number): Dense => {
  const r = seededRandom(seed);
  return dense(rows, cols, Float64Array.from({ length: rows * cols }, () => r() - 0.5));
};

/** Runs `f` on the TypeScript loops and on the kernels. */
const bothPaths = <A>(f: () => A): { ts: A; wasm: A } => {
  useWasmKernels(false);
  const ts = f();
  useWasmKernels(true);
  return { ts, wasm: f() };
};

const worstDifference = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
};

afterEach(() => useWasmKernels(true));

describe('WebAssembly linear-algebra kernels', () => {
  it('are the bytes linalg.wat assembles to (run `npm run build:wasm` after editing it)', async () => {
    const linalg = MODULES.find((m) => m.name === 'LINALG_WASM')!;
    expect(readFileSync(linalg.out, 'utf8')).toBe(source(linalg, await assemble(linalg)));
  });

  it('run in this runtime, and can be turned off', () => {
    expect(linalgKernels()).toBeDefined();
    useWasmKernels(false);
    expect(linalgKernels()).toBeUndefined();
  });

  it('refuse memory beyond 2 GiB, so callers fall back to the TypeScript loops', () => {
    const kernels = linalgKernels()!;
    expect(kernels.reserve(2 ** 20)).toBe(true);
    expect(kernels.f64().length).toBeGreaterThanOrEqual(2 ** 17);
    expect(kernels.reserve(2 ** 31 + 1)).toBe(false);
  });

  // Odd and even sizes reach every tail of the two-lane loops and of the 2 × 4 blocks.
  it.each([[1, 1], [2, 3], [3, 2], [5, 4], [6, 7], [9, 1], [17, 33], [40, 64]])('A·Aᵀ of a %i×%i matrix agrees with the TypeScript loops', (rows, cols) => {
    const a = random(rows, cols, rows * 100 + cols);
    const before = Float64Array.from(a.data);
    const { ts, wasm } = bothPaths(() => gramRows(a));
    expect(worstDifference(ts.data, wasm.data)).toBeLessThan(1e-13 * cols);
    expect(a.data).toEqual(before);
  });

  it.each([3, 4, 5, 8, 31, 64])('the tridiagonal reduction of a %i×%i matrix agrees with the TypeScript loops, including the projected vectors', (n) => {
    const m = gramRows(random(n, n + 3, n));
    const b = random(n, 3, n + 1);
    const { ts, wasm } = bothPaths(() => {
      const work = Float64Array.from(m.data);
      const projected = Float64Array.from(b.data);
      return { ...tridiagonalize(work, n, projected, 3), work, projected };
    });
    const scale = Math.max(...m.data.map(Math.abs));
    expect(worstDifference(ts.d, wasm.d)).toBeLessThan(1e-13 * scale * n);
    expect(worstDifference(ts.e, wasm.e)).toBeLessThan(1e-13 * scale * n);
    expect(worstDifference(ts.projected, wasm.projected)).toBeLessThan(1e-12 * n);
    // The reduced matrix is left in the caller's array on both paths.
    expect(worstDifference(ts.work, wasm.work)).toBeLessThan(1e-13 * scale * n);
  });

  it('give the same spectrum for a Gram matrix of LogME size class (200 × 300 features)', () => {
    const f = random(200, 300, 3);
    const y = random(200, 4, 4);
    const { ts, wasm } = bothPaths(() => symmetricEigen(gramRows(f), y)!);
    const sorted = (v: Float64Array) => Float64Array.from(v).sort();
    expect(worstDifference(sorted(ts.values), sorted(wasm.values))).toBeLessThan(1e-10);
  });
});
