/**
 * Loops of the kernel pack (and of the input check, inputs.ts) that run on tfjs-backend-wasm's
 * heap, in place: the WebAssembly SIMD module of heap.wat, instantiated on the backend's own
 * memory (one instance per memory), or, where that cannot be done (no WebAssembly SIMD, or a
 * backend that does not expose its memory), the TypeScript loops here, which compute the same
 * numbers in the same order.
 *
 * Addresses are in float32 elements (byte offset / 4) for the TypeScript loops and in bytes for
 * the module.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { HEAP_WASM } from './heapWasm';

/** Byte offset of a tensor's data in the wasm heap, and the heap (wasm backend internals). */
export interface WasmBackendInternals {
  readonly wasm: { readonly HEAPU8: Uint8Array; readonly HEAPF32: Float32Array; readonly asm?: { readonly memory?: object } };
  readonly dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

/** The loops, on byte offsets into the backend's heap. */
export interface HeapLoops {
  /** Which implementation these are. */
  readonly kind: 'wasm' | 'typescript';
  /** out[c] = Σ_r x[r, c], rows added in order (float32), for x of rows × cols. */
  sumLeading(x: number, out: number, rows: number, cols: number): void;
  /** out[c] = Σ_r x[r, c] and out[cols + c] = Σ_r x[r, c]², rows added in order (float32, each square rounded), for x of rows × cols. */
  channelMoments(x: number, out: number, rows: number, cols: number): void;
  /** out[r, c] = x[r, c]·scale[c] + shift[c] (the product rounded to float32, then added), for x of rows × cols. */
  channelAffine(x: number, scale: number, shift: number, out: number, rows: number, cols: number): void;
  /** out[i] = dy[i] where lo ≤ x[i] ≤ hi, else 0. */
  clipGradient(dy: number, x: number, out: number, n: number, lo: number, hi: number): void;
  /** One Adam step over n elements: see {@link adamStep}; outputs must not overlap the inputs. */
  adam(x: number, g: number, m: number, v: number, outX: number, outM: number, outV: number, n: number, ...constants: AdamConstants): void;
  /**
   * out[t·outStride + k] += a[t·aStride + k] · b[t·bStride + k] for t < count and k < n, each
   * product rounded to float32 and then added, t in order; strides in bytes (0 stays on one row).
   */
  mulAddRun(out: number, outStride: number, a: number, aStride: number, b: number, bStride: number, count: number, n: number): void;
  /** 1 if every one of the n floats at x is finite, else 0. */
  allFinite(x: number, n: number): number;
  /**
   * out[i·cout + o] = Σ_r x[r·cin + i] · dy[r·cout + o] over r < rows, rows added in order, each
   * product rounded to float32 and then added: xᵀ·dy for x of rows × cin and dy of rows × cout,
   * read in place. cin a multiple of 4 and cout of 8.
   */
  outerSum(x: number, dy: number, out: number, rows: number, cin: number, cout: number): void;
  /**
   * out[r·n + j] = bias[j] + Σ_t a[r·k + t] · b[t·n + j] over t < k in order (bias 0 where the
   * `bias` offset is 0), each product rounded to float32 and then added: a·b for a of m × k and
   * b of k × n, read in place. n a multiple of 8.
   */
  rowsTimes(a: number, b: number, bias: number, out: number, m: number, k: number, n: number): void;
}

/**
 * An Adam step's constants, each a float32 value: β1, 1 − β1, β2, 1 − β2, 1 − β1ᵗ, 1 − β2ᵗ, ε, −lr.
 */
export type AdamConstants = [number, number, number, number, number, number, number, number];

/** Each channel's sum and sum of squares over the rows of x (rows × cols), in float32 as {@link HeapLoops.channelMoments} adds them: sums, then squares. */
export const momentsOf = (x: Float32Array, rows: number, cols: number): Float32Array => {
  const out = new Float32Array(2 * cols);
  for (let r = 0, i = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++, i++) {
      const v = x[i]!;
      out[c] = out[c]! + v;
      out[cols + c] = out[cols + c]! + f32(v * v);
    }
  }
  return out;
};

/** out = x·scale + shift per channel (x rows × cols, row-major), each product rounded to float32 then added, as {@link HeapLoops.channelAffine}. */
export const affineInto = (x: Float32Array, scale: Float32Array, shift: Float32Array, out: Float32Array, cols: number): Float32Array => {
  for (let i = 0; i < x.length; i++) out[i] = f32(x[i]! * scale[i % cols]!) + shift[i % cols]!;
  return out;
};

const typescriptLoops = (backend: WasmBackendInternals): HeapLoops => ({
  kind: 'typescript',
  sumLeading: (x, out, rows, cols) => {
    const heap = backend.wasm.HEAPF32;
    const sums = new Float32Array(cols); // each addition rounds to float32, as in the module
    for (let r = 0, i = x / 4; r < rows; r++) {
      for (let c = 0; c < cols; c++, i++) sums[c] = sums[c]! + heap[i]!;
    }
    heap.set(sums, out / 4);
  },
  channelMoments: (x, out, rows, cols) => {
    const heap = backend.wasm.HEAPF32;
    heap.set(momentsOf(heap.subarray(x / 4, x / 4 + rows * cols), rows, cols), out / 4);
  },
  channelAffine: (x, scale, shift, out, rows, cols) => {
    const heap = backend.wasm.HEAPF32;
    affineInto(heap.subarray(x / 4, x / 4 + rows * cols), heap.slice(scale / 4, scale / 4 + cols), heap.slice(shift / 4, shift / 4 + cols), heap.subarray(out / 4, out / 4 + rows * cols), cols);
  },
  clipGradient: (dy, x, out, n, lo, hi) => {
    const heap = backend.wasm.HEAPF32;
    maskClipGradient(heap.subarray(dy / 4, dy / 4 + n), heap.subarray(x / 4, x / 4 + n), lo, hi, heap.subarray(out / 4, out / 4 + n));
  },
  adam: (x, g, m, v, outX, outM, outV, n, ...constants) => {
    const heap = backend.wasm.HEAPF32;
    const at = (offset: number): Float32Array => heap.subarray(offset / 4, offset / 4 + n);
    adamStep({ x: at(x), g: at(g), m: at(m), v: at(v) }, { x: at(outX), m: at(outM), v: at(outV) }, constants);
  },
  mulAddRun: (out, outStride, a, aStride, b, bStride, count, n) => {
    const heap = backend.wasm.HEAPF32;
    for (let t = 0; t < count; t++) {
      const [o, x, y] = [(out + t * outStride) / 4, (a + t * aStride) / 4, (b + t * bStride) / 4];
      for (let k = 0; k < n; k++) heap[o + k] = f32(heap[o + k]! + f32(heap[x + k]! * heap[y + k]!));
    }
  },
  allFinite: (x, n) => {
    const heap = backend.wasm.HEAPF32;
    for (let i = x / 4; i < x / 4 + n; i++) if (!Number.isFinite(heap[i]!)) return 0;
    return 1;
  },
  outerSum: (x, dy, out, rows, cin, cout) => {
    const heap = backend.wasm.HEAPF32;
    const o0 = out / 4;
    heap.fill(0, o0, o0 + cin * cout);
    for (let r = 0; r < rows; r++) {
      const xr = x / 4 + r * cin;
      const dr = dy / 4 + r * cout;
      for (let i = 0; i < cin; i++) {
        const xi = heap[xr + i]!;
        const row = o0 + i * cout;
        for (let o = 0; o < cout; o++) heap[row + o] = f32(heap[row + o]! + f32(xi * heap[dr + o]!));
      }
    }
  },
  rowsTimes: (a, b, bias, out, m, k, n) => {
    const heap = backend.wasm.HEAPF32;
    const sums = new Float32Array(n);
    for (let r = 0; r < m; r++) {
      if (bias === 0) sums.fill(0);
      else sums.set(heap.subarray(bias / 4, bias / 4 + n));
      const ar = a / 4 + r * k;
      for (let t = 0; t < k; t++) {
        const at = heap[ar + t]!;
        const bt = b / 4 + t * n;
        for (let j = 0; j < n; j++) sums[j] = sums[j]! + f32(at * heap[bt + j]!);
      }
      heap.set(sums, out / 4 + r * n);
    }
  },
});

const f32 = Math.fround;

/**
 * One Adam step (Kingma & Ba, "Adam: A Method for Stochastic Optimization", 2015, Algorithm 1) in
 * the order of operations of tfjs-core's AdamOptimizer, each rounded to float32 as its kernels round
 * them (an operation on float32 values done in float64 and rounded once gives the float32 result):
 * m' = m·β1 + g·(1 − β1), v' = v·β2 + (g·g)·(1 − β2),
 * x' = ((m' / (1 − β1ᵗ)) / (√(v' / (1 − β2ᵗ)) + ε)) · (−lr) + x.
 */
export const adamStep = (
  input: { readonly x: ArrayLike<number>; readonly g: ArrayLike<number>; readonly m: ArrayLike<number>; readonly v: ArrayLike<number> },
  out: { readonly x: Float32Array; readonly m: Float32Array; readonly v: Float32Array },
  [b1, omb1, b2, omb2, oma1, oma2, eps, nlr]: AdamConstants,
): void => {
  for (let i = 0; i < out.x.length; i++) {
    const g = input.g[i]!;
    const m = f32(f32(input.m[i]! * b1) + f32(g * omb1));
    const v = f32(f32(input.v[i]! * b2) + f32(f32(g * g) * omb2));
    out.m[i] = m;
    out.v[i] = v;
    out.x[i] = f32(f32(f32(f32(m / oma1) / f32(f32(Math.sqrt(f32(v / oma2))) + eps)) * nlr) + input.x[i]!);
  }
};

/** out[i] = dy[i] where lo ≤ x[i] ≤ hi, else 0 (a NaN in x compares false), for i < out.length. */
export const maskClipGradient = (dy: ArrayLike<number>, x: ArrayLike<number>, lo: number, hi: number, out: Float32Array): void => {
  for (let i = 0; i < out.length; i++) {
    const value = x[i]!;
    out[i] = value >= lo && value <= hi ? dy[i]! : 0;
  }
};

/** The parts of the WebAssembly API used here (the project's type libraries do not declare it). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
}
const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
let compiled: object | null | undefined;
let enabled = true;
const instances = new WeakMap<object, HeapLoops>();

/** Turns the WebAssembly loops off (or on again), so tests and benches can compare both paths. */
export const useHeapWasm = (on: boolean): void => {
  enabled = on;
};

const compile = (): object | null => {
  try {
    const bytes = Uint8Array.from({ length: HEAP_WASM.length / 2 }, (_, i) => Number.parseInt(HEAP_WASM.slice(2 * i, 2 * i + 2), 16));
    return api !== undefined && api.validate(bytes) ? new api.Module(bytes) : null;
  } catch {
    return null;
  }
};

/** The module's loops bound to `memory`, or undefined where they cannot run. */
const wasmLoops = (memory: object | undefined): HeapLoops | undefined => {
  if (!enabled || api === undefined || memory === undefined) return undefined;
  if (compiled === undefined) compiled = compile();
  if (compiled === null) return undefined;
  const known = instances.get(memory);
  if (known !== undefined) return known;
  try {
    const { exports } = new api.Instance(compiled, { env: { memory } });
    const loops: HeapLoops = {
      kind: 'wasm',
      sumLeading: exports['sumLeading'] as HeapLoops['sumLeading'],
      channelMoments: exports['channelMoments'] as HeapLoops['channelMoments'],
      channelAffine: exports['channelAffine'] as HeapLoops['channelAffine'],
      clipGradient: exports['clipGradient'] as HeapLoops['clipGradient'],
      adam: exports['adam'] as HeapLoops['adam'],
      mulAddRun: exports['mulAddRun'] as HeapLoops['mulAddRun'],
      allFinite: exports['allFinite'] as HeapLoops['allFinite'],
      outerSum: exports['outerSum'] as HeapLoops['outerSum'],
      rowsTimes: exports['rowsTimes'] as HeapLoops['rowsTimes'],
    };
    instances.set(memory, loops);
    return loops;
  } catch {
    return undefined;
  }
};

/** The fastest loops available for this backend's heap. */
export const heapLoops = (backend: WasmBackendInternals): HeapLoops => wasmLoops(backend.wasm.asm?.memory) ?? typescriptLoops(backend);

/** Whether `backend` is tfjs-backend-wasm, with a heap these loops can work on. */
export const isHeapBackend = (backend: unknown): backend is WasmBackendInternals => {
  const b = backend as Partial<WasmBackendInternals>;
  return b.dataIdMap !== undefined && b.wasm !== undefined && typeof b.makeOutput === 'function';
};

/** A tensor's byte offset in the heap. */
export const byteOffset = (backend: WasmBackendInternals, info: tf.TensorInfo): number => {
  const data = backend.dataIdMap.get(info.dataId);
  if (data === undefined) throw new Error('transferkit: a tensor is not in the wasm heap');
  return data.memoryOffset;
};
