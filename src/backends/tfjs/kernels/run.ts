/**
 * Calling one backend's own kernels from inside another kernel.
 *
 * A kernel receives and returns `TensorInfo`s, not tensors, so the replacement kernels in this
 * folder are written against the backend's registered kernel functions directly. `KernelCalls`
 * keeps every intermediate it makes and releases all but the result, so a replacement kernel
 * leaves exactly one new data buffer behind, as a built-in kernel does.
 */
import * as tf from '@tensorflow/tfjs-core';

export type Info = tf.TensorInfo;
type Attrs = tf.NamedAttrMap;

export class KernelCalls {
  readonly #made: Info[] = [];

  constructor(
    readonly backend: tf.KernelBackend,
    readonly backendName: string,
    /** Kernels to use instead of the registered ones (the originals a replacement wraps). */
    private readonly overrides: ReadonlyMap<string, tf.KernelFunc> = new Map(),
  ) {}

  run(kernel: string, inputs: tf.NamedTensorInfoMap | Info[], attrs: Attrs = {}): Info {
    const func = this.overrides.get(kernel) ?? tf.getKernel(kernel, this.backendName)?.kernelFunc;
    if (func === undefined) throw new Error(`transferkit: kernel '${kernel}' is not registered for backend '${this.backendName}'`);
    const out = func({ inputs: inputs as tf.NamedTensorInfoMap, backend: this.backend, attrs });
    const info = Array.isArray(out) ? out[0]! : out;
    this.#made.push(info);
    return info;
  }

  /** Releases every intermediate except `result`, and returns it. */
  finish(result: Info): Info {
    for (const info of this.#made) if (info !== result) this.backend.disposeData(info.dataId);
    this.#made.length = 0;
    return result;
  }

  /** Releases everything made so far (after a failure). */
  abandon(): void {
    for (const info of this.#made) this.backend.disposeData(info.dataId);
    this.#made.length = 0;
  }

  /**
   * Runs a kernel body with fresh calls on `backend`, returning its result and releasing every
   * intermediate, whether the body returns or throws.
   */
  static body(backend: unknown, body: (calls: KernelCalls) => Info, overrides?: ReadonlyMap<string, tf.KernelFunc>): Info {
    const calls = new KernelCalls(backend as tf.KernelBackend, tf.getBackend(), overrides);
    try {
      return calls.finish(body(calls));
    } catch (thrown) {
      calls.abandon();
      throw thrown;
    }
  }

  reshape(x: Info, shape: number[]): Info {
    return this.run('Reshape', { x }, { shape });
  }

  transpose(x: Info, perm: number[]): Info {
    return this.run('Transpose', { x }, { perm });
  }

  /** Zero padding; returns `x` itself when there is none. */
  pad(x: Info, paddings: Array<[number, number]>): Info {
    if (paddings.every(([a, b]) => a === 0 && b === 0)) return x;
    return this.run('PadV2', { x }, { paddings, constantValue: 0 });
  }

  /** `x[begin : begin + size]`; returns `x` itself when that is all of it. */
  slice(x: Info, begin: number[], size: number[]): Info {
    if (begin.every((b) => b === 0) && size.every((s, i) => s === x.shape[i])) return x;
    return this.run('Slice', { x }, { begin, size });
  }

  /** `a · b` for 2-D `a` and `b`, with no transpose flags (slow on some backends). */
  matMul(a: Info, b: Info): Info {
    const [m, k] = a.shape as [number, number];
    const n = b.shape[1]!;
    const product = this.run('BatchMatMul', { a: this.reshape(a, [1, m, k]), b: this.reshape(b, [1, k, n]) }, { transposeA: false, transposeB: false });
    return this.reshape(product, [m, n]);
  }

  sum(x: Info, axis: number[]): Info {
    return this.run('Sum', { x }, { axis, keepDims: false });
  }

  reverse(x: Info, dims: number[]): Info {
    return this.run('Reverse', { x }, { dims });
  }
}
