/**
 * The WebAssembly kernels of linalg.wat, behind a small typed surface. They are used where the
 * runtime supports WebAssembly with SIMD (Node 20, current browsers) and skipped otherwise —
 * linalg.ts then runs its TypeScript loops, which compute the same thing.
 *
 * Each call gets its own instance and memory, so nothing stays allocated after it; the compiled
 * module (1.6 kB, small enough for browsers' synchronous compile) is kept.
 */
import { LINALG_WASM } from './linalgWasm';

/** The parts of the WebAssembly API used here (the project's type libraries do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
}
type Kernel = (...args: number[]) => void;

/** One instance: its float64 memory, and the kernels taking byte addresses into it. */
export interface LinalgKernels {
  /** The memory as float64s; call again after `reserve`, which may replace the buffer. */
  readonly f64: () => Float64Array<ArrayBuffer>;
  /** Grows the memory to at least `bytes`; false if it cannot. */
  readonly reserve: (bytes: number) => boolean;
  /** Lower triangle of A·Aᵀ: A (n×d) at `a`, the result (n×n) at `g`. */
  readonly gramLower: (a: number, n: number, d: number, g: number) => void;
  /** p += M·v over indices ≥ from, reading M's lower triangle. */
  readonly symvLower: (m: number, n: number, from: number, v: number, p: number) => void;
  /** M ← M − v·qᵀ − q·vᵀ on the lower triangle, indices ≥ from. */
  readonly rank2Lower: (m: number, n: number, from: number, v: number, q: number) => void;
}

const PAGE = 65536;
/** Kept below 2 GiB so every byte address is a non-negative i32. */
export const MAX_KERNEL_BYTES = 2 ** 31 - PAGE;
const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
let compiled: object | null | undefined;
let enabled = true;

/** Turns the WebAssembly kernels off (or on again), so tests and benches can compare both paths. */
export const useWasmKernels = (on: boolean): void => {
  enabled = on;
};

const decode = (hex: string): Uint8Array => Uint8Array.from({ length: hex.length / 2 }, (_, i) => Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16));

const compile = (): object | null => {
  try {
    const bytes = decode(LINALG_WASM);
    return api !== undefined && api.validate(bytes) ? new api.Module(bytes) : null;
  } catch {
    return null;
  }
};

/** Whether the kernels can run here (WebAssembly with SIMD, and not turned off). */
export const hasLinalgKernels = (): boolean => {
  if (!enabled || api === undefined) return false;
  if (compiled === undefined) compiled = compile();
  return compiled !== null;
};

/** A fresh instance of the kernels, or undefined where WebAssembly SIMD is unavailable or turned off. */
export const linalgKernels = (): LinalgKernels | undefined => {
  if (api === undefined || !hasLinalgKernels()) return undefined;
  const { exports } = new api.Instance(compiled!, {});
  const memory = exports.memory as WasmMemory;
  return {
    f64: () => new Float64Array(memory.buffer),
    reserve: (bytes) => {
      if (bytes > MAX_KERNEL_BYTES) return false;
      const missing = Math.ceil((bytes - memory.buffer.byteLength) / PAGE);
      if (missing <= 0) return true;
      try {
        memory.grow(missing);
        return true;
      } catch {
        return false; // more than this runtime will give
      }
    },
    gramLower: exports.gramLower as Kernel,
    symvLower: exports.symvLower as Kernel,
    rank2Lower: exports.rank2Lower as Kernel,
  };
};
