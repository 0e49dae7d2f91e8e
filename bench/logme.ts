/**
 * LogME on 1,000 × 1,280 features (10 classes; N ≤ D, so the N × N Gram matrix) and on 5,000 × 512
 * (N > D, the D × D one): transferkit with its WebAssembly kernels, with its TypeScript loops
 * only, and a numpy implementation (bench/logme_reference.py), on the same data, timed in one run.
 * Run: npm run bench -- logme   (needs python3 with numpy; skipped with a message otherwise)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { either as E } from 'fp-ts';
import { logme, type Matrix } from 'transferkit';
import { seededRandom } from '../src/core/random';
import { useWasmKernels } from '../src/metrics/kernels/wasm';
import { dense, gramRows, tridiagonalize, tridiagonalQL } from '../src/metrics/linalg';

const K = 10;
const RUNS = 3;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export const run = (): void => {
  compare(1000, 1280, true);
  compare(5000, 512, false);
};

/** One shape, side by side; `parts` also times the N ≤ D path's two O(n³) steps on their own. */
const compare = (N: number, D: number, parts: boolean): void => {
  const random = seededRandom(42);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const centres = Float32Array.from({ length: K * D }, gaussian);
  const labels = Int32Array.from({ length: N }, (_, i) => i % K);
  const data = Float32Array.from({ length: N * D }, (_, i) => 0.3 * centres[labels[Math.floor(i / D)]! * D + (i % D)]! + gaussian());
  const features: Matrix = { rows: N, cols: D, data };

  // transferkit as shipped (WebAssembly SIMD kernels), and with its TypeScript loops only.
  const timed = (wasm: boolean): { ms: number[]; value: number } => {
    useWasmKernels(wasm);
    const ms: number[] = [];
    let value = Number.NaN;
    for (let r = 0; r < RUNS; r++) {
      const start = performance.now();
      const result = logme(features, labels);
      ms.push(performance.now() - start);
      if (E.isLeft(result)) throw new Error(result.left.message);
      value = result.right.value;
    }
    useWasmKernels(true);
    return { ms, value };
  };
  const plain = timed(false);
  const { ms: ours, value } = timed(true);

  const split = parts ? timeParts(data, labels, N, D) : undefined;

  const dir = mkdtempSync(join(tmpdir(), 'transferkit-bench-'));
  let reference: { value: number; ms: number[]; numpy: string } | undefined;
  try {
    writeFileSync(join(dir, 'f.f32'), data);
    writeFileSync(join(dir, 'y.i32'), labels);
    const script = fileURLToPath(new URL('./logme_reference.py', import.meta.url));
    reference = JSON.parse(execFileSync('python3', [script, join(dir, 'f.f32'), join(dir, 'y.i32'), String(N), String(D), String(RUNS)], { encoding: 'utf8' }));
  } catch (error) {
    console.log(`numpy reference skipped: ${(error as Error).message.split('\n')[0]} (install python3 and numpy to compare)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  console.log(`LogME, ${N} × ${D} features, ${K} classes, median of ${RUNS} runs`);
  console.log(`  transferkit (WebAssembly SIMD kernels): ${median(ours).toFixed(0)} ms   value ${value.toFixed(6)}`);
  console.log(`  transferkit (TypeScript loops only):    ${median(plain.ms).toFixed(0)} ms   value ${plain.value.toFixed(6)}   (${(median(plain.ms) / median(ours)).toFixed(1)}× the kernels' time)`);
  if (split !== undefined) {
    console.log(`    its parts, run separately: Gram matrix ${split.gramMs.toFixed(0)} ms, tridiagonal reduction ${split.tridiagonalMs.toFixed(0)} ms, QL iterations ${split.qlMs.toFixed(0)} ms`);
  }
  if (reference !== undefined) {
    console.log(`  numpy ${reference.numpy} (OpenBLAS):  ${median(reference.ms).toFixed(0)} ms   value ${reference.value.toFixed(6)}`);
    console.log(`  ratio transferkit / numpy: ${(median(ours) / median(reference.ms)).toFixed(1)}×   |value difference| ${Math.abs(value - reference.value).toExponential(1)}`);
  }
};

/** Where the time goes when N ≤ D: the N × N Gram matrix, its reduction, the QL iterations. */
const timeParts = (data: Float32Array, labels: Int32Array, N: number, D: number): { gramMs: number; tridiagonalMs: number; qlMs: number } => {
  const f = dense(N, D, Float64Array.from(data));
  const oneHot = dense(N, K);
  labels.forEach((c, i) => (oneHot.data[i * K + c] = 1));
  let start = performance.now();
  const gram = gramRows(f);
  const gramMs = performance.now() - start;
  const work = Float64Array.from(gram.data);
  const projected = Float64Array.from(oneHot.data);
  start = performance.now();
  const { d: diagonal, e: offDiagonal } = tridiagonalize(work, N, projected, K);
  const tridiagonalMs = performance.now() - start;
  start = performance.now();
  tridiagonalQL(diagonal, offDiagonal, N, projected, K);
  return { gramMs, tridiagonalMs, qlMs: performance.now() - start };
};
