/**
 * A phase's weight penalty: L2 toward zero on the kernels that train, or, with L2-SP (Li,
 * Grandvalet & Davoine, "Explicit Inductive Bias for Transfer Learning with Convolutional
 * Networks", ICML 2018, eq. 3), α‖w − w⁰‖² on the backbone's kernels, toward the values they had
 * when the phase started, and the L2 on the head's kernels alone.
 */
import * as tf from '@tensorflow/tfjs-core';

/** A kernel is a weight whose original name ends in `kernel` (Dense, Conv2D) or `depthwise_kernel`. */
export const isKernel = (w: { readonly originalName: string }): boolean => /kernel$/.test(w.originalName);

/** The penalty of one phase; owns the copies of the starting values (L2-SP), freed by {@link WeightPenalty.dispose}. */
export class WeightPenalty {
  readonly #anchors: tf.Tensor[];

  constructor(
    private readonly backbone: ReadonlyArray<tf.Variable>,
    private readonly head: ReadonlyArray<tf.Variable>,
    private readonly l2: number,
    private readonly startingPoint: number,
  ) {
    this.#anchors = startingPoint > 0 ? backbone.map((v) => tf.clone(v)) : [];
  }

  /** Whether it adds anything. */
  get active(): boolean {
    return (this.l2 > 0 && this.backbone.length + this.head.length > 0) || this.#anchors.length > 0;
  }

  /** The penalty's value now, a scalar under the gradient tape. */
  value(): tf.Scalar {
    const terms: tf.Scalar[] = [];
    const toZero = this.#anchors.length > 0 ? this.head : [...this.backbone, ...this.head];
    if (this.l2 > 0 && toZero.length > 0) terms.push(tf.mul(this.l2, tf.addN(toZero.map((k) => tf.sum(tf.square(k))))) as tf.Scalar);
    if (this.#anchors.length > 0) {
      terms.push(tf.mul(this.startingPoint, tf.addN(this.backbone.map((k, i) => tf.sum(tf.square(tf.sub(k, this.#anchors[i]!)))))) as tf.Scalar);
    }
    return terms.length === 0 ? tf.scalar(0) : terms.length === 1 ? terms[0]! : (tf.add(terms[0]!, terms[1]!) as tf.Scalar);
  }

  dispose(): void {
    tf.dispose(this.#anchors);
    this.#anchors.length = 0;
  }
}
