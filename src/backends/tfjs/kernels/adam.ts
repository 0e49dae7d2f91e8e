/**
 * Adam in one kernel per variable.
 *
 * tfjs-core's `AdamOptimizer` runs about fourteen element-wise kernels per variable and step (two
 * moment updates, the bias corrections, a square root, a division, the update, the assignments);
 * for the 14 weights of MobileNetV2's last block and a head that is about 200 kernel calls and
 * 8–9 ms a step on wasm, more than a tenth of the step. {@link ADAM_KERNEL} does one pass per
 * variable instead, on the wasm heap (heap.wat) or in a TypeScript loop on other backends, and
 * rounds each operation to float32 in tfjs's order, so that {@link FusedAdam} gives the same
 * bits as `tf.train.adam` (a test checks it, step by step).
 */
import * as tf from '@tensorflow/tfjs-core';
import { adamStep, byteOffset, heapLoops, isHeapBackend, type AdamConstants } from './heap';

/** The name of the kernel pack's fused Adam update, as registered with tfjs: inputs x, g, m, v; outputs x', m', v'. */
export const ADAM_KERNEL = 'TransferkitAdam';

/** The constants of one step, each already a float32 value (see {@link AdamConstants}). */
export interface AdamAttrs {
  readonly constants: AdamConstants;
}

export const adamKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, g, m, v } = inputs as Record<'x' | 'g' | 'm' | 'v', tf.TensorInfo>;
  const { constants } = attrs as unknown as AdamAttrs;
  const shape = [...x.shape];
  const n = tf.util.sizeFromShape(shape);
  if (isHeapBackend(backend)) {
    const outs = [0, 1, 2].map(() => backend.makeOutput(shape, 'float32'));
    const [ox, om, ov] = outs.map((o) => byteOffset(backend, o)) as [number, number, number];
    heapLoops(backend).adam(byteOffset(backend, x), byteOffset(backend, g), byteOffset(backend, m), byteOffset(backend, v), ox, om, ov, n, ...constants);
    return outs;
  }
  const generic = backend as tf.KernelBackend;
  const read = (t: tf.TensorInfo): Float32Array => generic.readSync(t.dataId) as Float32Array;
  const out = { x: new Float32Array(n), m: new Float32Array(n), v: new Float32Array(n) };
  adamStep({ x: read(x), g: read(g), m: read(m), v: read(v) }, out, constants);
  return [out.x, out.m, out.v].map((values) => ({ dataId: generic.write(values, shape, 'float32'), shape, dtype: 'float32' as const }));
};

const f32 = Math.fround;

/**
 * Adam (Kingma & Ba, 2015) with `tf.train.adam`'s defaults (β1 0.9, β2 0.999, ε the backend's
 * epsilon) and its arithmetic, one {@link ADAM_KERNEL} call per variable. Use it only on a backend
 * that has the kernel ({@link hasFusedAdam}).
 */
export class FusedAdam extends tf.Optimizer {
  static readonly className = 'TransferkitFusedAdam';
  readonly #beta1 = 0.9;
  readonly #beta2 = 0.999;
  readonly #epsilon: number;
  /** β1ᵗ and β2ᵗ as tfjs keeps them: float32 scalars multiplied by β after each step. */
  #accBeta1: number;
  #accBeta2: number;
  readonly #moments = new Map<string, { m: tf.Variable; v: tf.Variable }>();

  constructor(private readonly learningRate: number) {
    super();
    this.#epsilon = tf.backend().epsilon();
    this.#accBeta1 = f32(this.#beta1);
    this.#accBeta2 = f32(this.#beta2);
  }

  applyGradients(variableGradients: Parameters<tf.Optimizer['applyGradients']>[0]): void {
    const pairs = Array.isArray(variableGradients) ? variableGradients.map((g) => [g.name, g.tensor] as const) : Object.entries(variableGradients);
    const constants: AdamConstants = [
      f32(this.#beta1),
      f32(1 - this.#beta1),
      f32(this.#beta2),
      f32(1 - this.#beta2),
      f32(1 - this.#accBeta1),
      f32(1 - this.#accBeta2),
      f32(this.#epsilon),
      f32(-this.learningRate),
    ];
    tf.tidy(() => {
      for (const [name, gradient] of pairs) {
        const value = tf.engine().registeredVariables[name];
        if (value === undefined) throw new Error(`FusedAdam: no variable '${name}'`);
        let moments = this.#moments.get(name);
        if (moments === undefined) {
          moments = tf.tidy(() => ({ m: tf.variable(tf.zerosLike(value), false), v: tf.variable(tf.zerosLike(value), false) }));
          this.#moments.set(name, moments);
        }
        if (gradient == null) continue;
        const [x, m, v] = tf.engine().runKernel(ADAM_KERNEL, { x: value, g: gradient, m: moments.m, v: moments.v }, { constants } as unknown as tf.NamedAttrMap) as tf.Tensor[];
        moments.m.assign(m!);
        moments.v.assign(v!);
        value.assign(x!);
      }
    });
    this.#accBeta1 = f32(this.#accBeta1 * f32(this.#beta1));
    this.#accBeta2 = f32(this.#accBeta2 * f32(this.#beta2));
    this.incrementIterations();
  }

  override dispose(): void {
    for (const { m, v } of this.#moments.values()) tf.dispose([m, v]);
    this.#moments.clear();
    super.dispose();
  }

  getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, beta1: this.#beta1, beta2: this.#beta2, epsilon: this.#epsilon };
  }
}

/** Whether the current backend has the fused Adam kernel (the pack registered it). */
export const hasFusedAdam = (): boolean => tf.getKernel(ADAM_KERNEL, tf.getBackend()) !== undefined;

/** Adam for a training session: {@link FusedAdam} where the backend has its kernel, else tfjs's. */
export const adam = (learningRate: number): tf.Optimizer => (hasFusedAdam() ? new FusedAdam(learningRate) : tf.train.adam(learningRate));
