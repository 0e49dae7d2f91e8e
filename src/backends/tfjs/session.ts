/**
 * One training phase on the tfjs backend.
 *
 * The phase's policy splits the copied graph into a frozen prefix and a trainable suffix. The prefix
 * is compiled for inference (BatchNorm folded into the convolution before it, activations fused;
 * see compile.ts), runs once per example, a batch at a time, and its outputs are appended to row
 * stores (in-memory chunks by default, or on disk); every step then runs only the suffix and the
 * head on gathered rows. Gradients flow only to the variables of the layers that train, so nothing frozen
 * moves, and a new policy takes effect in the next phase with no re-compile to forget.
 *
 * The copied backbone layers run in inference mode even while they train, as the Keras
 * transfer-learning guide advises for fine-tuning: BatchNorm keeps normalising with its moving
 * statistics (which never move) while its scale and offset train, so unfreezing does not swap the
 * statistics the head was trained on for those of small batches. Only the new head runs in
 * training mode (its dropout).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { either as E } from 'fp-ts';
import type { BatchOutcome, InputSet, PhaseArgs, PhaseSession } from '../../core/backbone';
import { backendFailure, type TransferError } from '../../core/errors';
import { deriveSeed } from '../../core/random';
import { memoryRowStore, type RowStore, type RowStoreFactory } from '../../core/rowStore';
import { compilePrefix, forEachBatch, type CompiledPrefix } from './compile';
import { applyPolicy, replay, split, type Layer, type SymbolicTensor } from './graph';

/** What a session needs of a transfer model. */
export interface Parts {
  /** The copied model's input. */
  readonly input: SymbolicTensor;
  /** The copied layers the tap depends on, then the pooling layer, in order. */
  readonly graph: ReadonlyArray<Layer>;
  /** The copied backbone layers a policy can train (the graph without the input and pooling). */
  readonly backbone: ReadonlyArray<Layer>;
  /** The pooled tap output: the head's input. */
  readonly pooled: SymbolicTensor;
  /** The head's layers, and the head as a model from a pooled vector to class probabilities. */
  readonly head: ReadonlyArray<Layer>;
  readonly headModel: tfl.LayersModel;
  readonly classes: number;
  readonly dropout: number;
}

const rowSize = (shape: ReadonlyArray<number>): number => shape.reduce((a, b) => a * b, 1);

/** Cached prefix outputs of one crossing tensor: a row per example. */
interface Cached {
  readonly store: RowStore;
  readonly shape: ReadonlyArray<number>;
}

/**
 * Runs the compiled frozen prefix over the inputs, a batch at a time, and appends each crossing
 * tensor's rows to its own store: memory holds one batch of activations beyond the stores.
 */
const cache = (prefix: CompiledPrefix, crossing: ReadonlyArray<SymbolicTensor>, x: tf.Tensor, batchSize: number, store: RowStoreFactory): Cached[] => {
  const cached = crossing.map((t) => {
    const shape = (t.shape as number[]).slice(1);
    return { store: store(rowSize(shape)), shape };
  });
  try {
    forEachBatch(prefix, x, batchSize, (outputs) => outputs.forEach((o, k) => cached[k]!.store.append(o.dataSync() as Float32Array)));
    return cached;
  } catch (thrown) {
    cached.forEach((c) => c.store.dispose());
    throw thrown;
  }
};

const gatherRows = (c: Cached, indices: Int32Array): tf.Tensor => {
  const out = new Float32Array(indices.length * c.store.rowSize);
  c.store.gather(indices, out);
  return tf.tensor(out, [indices.length, ...c.shape], 'float32');
};

/** Mean cross-entropy of the true classes' probabilities (clipped away from 0). */
const crossEntropy = (probs: tf.Tensor, y: tf.Tensor, classes: number): tf.Scalar =>
  tf.neg(tf.mean(tf.log(tf.clipByValue(tf.sum(tf.mul(probs, tf.oneHot(y as tf.Tensor1D, classes)), 1), 1e-7, 1)))) as tf.Scalar;

const countCorrect = (probs: tf.Tensor, y: tf.Tensor): number => tf.sum(tf.cast(tf.equal(tf.argMax(probs, 1), y), 'int32')).dataSync()[0]!;

class TfjsPhaseSession implements PhaseSession {
  readonly #optimizer: tf.Optimizer;
  readonly #variables: tf.Variable[];
  readonly #kernels: tf.Variable[];

  constructor(
    private readonly parts: Parts,
    private readonly suffix: tfl.LayersModel | undefined,
    private readonly cached: Record<InputSet, { rows: Cached[]; labels: Int32Array } | undefined>,
    private readonly args: PhaseArgs<tf.Tensor>,
    trained: ReadonlySet<Layer>,
    readonly cacheMs: number,
  ) {
    const { learningRate, optimizer } = args.phase;
    this.#optimizer = optimizer === 'adam' ? tf.train.adam(learningRate) : tf.train.sgd(learningRate);
    const weights = [...trained, ...parts.head].flatMap((l) => l.trainableWeights);
    this.#variables = weights.map((w) => w.read() as tf.Variable);
    // tfjs makes variable names unique with a suffix (`kernel_1` for the second model built in a
    // process), which once hid every kernel from the L2 penalty after the first run; the original
    // name is stable.
    this.#kernels = weights.filter((w) => /kernel$/.test(w.originalName)).map((w) => w.read() as tf.Variable);
  }

  #forward(xs: tf.Tensor[], training: boolean, seed: number): tf.Tensor {
    const h = this.suffix === undefined ? xs[0]! : (this.suffix.apply(xs.length === 1 ? xs[0]! : xs, { training: false }) as tf.Tensor);
    const dropped = training && this.parts.dropout > 0 ? tf.dropout(h, this.parts.dropout, undefined, seed) : h;
    return this.parts.headModel.apply(dropped, { training }) as tf.Tensor;
  }

  #batch(set: InputSet, indices: Int32Array): { xs: tf.Tensor[]; y: tf.Tensor } {
    const c = this.cached[set]!;
    return { xs: c.rows.map((r) => gatherRows(r, indices)), y: tf.tensor1d(indices.map((i) => c.labels[i]!), 'int32') };
  }

  step(indices: Int32Array, stepNumber: number): E.Either<TransferError, BatchOutcome> {
    try {
      let loss = Number.NaN;
      let correct = 0;
      const l2 = this.args.phase.regularization.l2;
      tf.tidy(() => {
        const { xs, y } = this.#batch('train', indices);
        this.#optimizer.minimize(
          () => {
            const probs = this.#forward(xs, true, deriveSeed(this.args.seed, stepNumber));
            const ce = crossEntropy(probs, y, this.parts.classes);
            loss = ce.dataSync()[0]!;
            correct = countCorrect(probs, y);
            if (l2 === 0 || this.#kernels.length === 0) return ce;
            return tf.add(ce, tf.mul(l2, tf.addN(this.#kernels.map((k) => tf.sum(tf.square(k))))));
          },
          false,
          this.#variables,
        );
      });
      if (!Number.isFinite(loss)) return E.left(backendFailure('a training step', new Error('the loss is not finite (training diverged: try a lower learning rate)')));
      return E.right({ lossSum: loss * indices.length, correct });
    } catch (thrown) {
      return E.left(backendFailure('a training step', thrown));
    }
  }

  evaluate(set: InputSet, indices: Int32Array): E.Either<TransferError, BatchOutcome> {
    try {
      return E.right(
        tf.tidy(() => {
          const { xs, y } = this.#batch(set, indices);
          const probs = this.#forward(xs, false, 0);
          return { lossSum: crossEntropy(probs, y, this.parts.classes).dataSync()[0]! * indices.length, correct: countCorrect(probs, y) };
        }),
      );
    } catch (thrown) {
      return E.left(backendFailure('evaluating', thrown));
    }
  }

  dispose(): void {
    this.#optimizer.dispose();
    for (const set of [this.cached.train, this.cached.validation]) set?.rows.forEach((c) => c.store.dispose());
  }
}

/** Opens a phase: applies its policy, splits the graph, caches the frozen prefix's outputs. */
export const openSession = (parts: Parts, args: PhaseArgs<tf.Tensor>): E.Either<TransferError, PhaseSession> => {
  let prefix: CompiledPrefix | undefined;
  let train: Cached[] = [];
  try {
    const trained = applyPolicy(parts.backbone, args.phase.trains);
    const { suffix, crossing } = split(parts.graph, trained, parts.pooled);
    const suffixModel = suffix.length === 0 ? undefined : replay(suffix, crossing, parts.pooled);
    prefix = compilePrefix(parts.input, crossing);
    const store = args.store ?? memoryRowStore();
    const started = performance.now();
    train = cache(prefix, crossing, args.inputs, args.batchSize, store);
    const v = args.validation;
    const validation = v === undefined ? undefined : { rows: cache(prefix, crossing, v.inputs, args.batchSize, store), labels: v.labels };
    const cacheMs = performance.now() - started;
    return E.right(new TfjsPhaseSession(parts, suffixModel, { train: { rows: train, labels: args.labels }, validation }, args, trained, cacheMs));
  } catch (thrown) {
    train.forEach((c) => c.store.dispose());
    return E.left(backendFailure(`starting phase ${args.phase.name}`, thrown));
  } finally {
    prefix?.dispose();
  }
};
