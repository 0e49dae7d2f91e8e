/**
 * One training step's arithmetic, the same on this thread and on a worker thread's share of a
 * batch: the trainable part's forward pass, its loss and correct count, and moving arrays in and
 * out of tensors.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { byteOffset, isHeapBackend } from '../kernels/heap';
import { applySuffix } from '../suffix';
import type { Cached } from './caching';
import type { Parts } from './parts';

/**
 * A float tensor holding a copy of `values`, so the array can be reused or moved to another thread
 * at once: wasm copies it into its heap anyway; the cpu backend would keep the array itself.
 */
export const tensorOf = (values: Float32Array, shape: ReadonlyArray<number>): tf.Tensor =>
  tf.tensor(tf.getBackend() === 'wasm' ? values : values.slice(), [...shape], 'float32');

/**
 * Copies a float tensor's values into `out` (of its size) and returns `out`: on wasm straight from
 * the backend's heap, with no array in between; elsewhere through `dataSync`. Reusing `out` step
 * after step spares the garbage collector megabytes of arrays per step.
 */
export const readInto = (t: tf.Tensor, out: Float32Array): Float32Array => {
  const backend = tf.backend();
  if (isHeapBackend(backend) && backend.dataIdMap.get(t.dataId) !== undefined) {
    const at = byteOffset(backend, t) / 4;
    out.set(backend.wasm.HEAPF32.subarray(at, at + t.size));
  } else {
    out.set(t.dataSync() as Float32Array);
  }
  return out;
};

/** A weight's key: its layer's name and its own short name, e.g. `features/kernel`. */
export const weightKey = (layerName: string, originalName: string): string => `${layerName}/${originalName.split('/').pop()}`;

/** The rows of a batch, gathered from a cached input's store into a tensor. */
export const gatherRows = (c: Cached, indices: Int32Array): tf.Tensor => {
  const out = new Float32Array(indices.length * c.store.rowSize);
  c.store.gather(indices, out);
  return tf.tensor(out, [indices.length, ...c.shape], 'float32');
};

/**
 * Mean cross-entropy from the head's logits z: log Σⱼ exp(zⱼ) − z_true, a log-softmax computed
 * stably (tfjs subtracts the row's maximum before exponentiating). Its gradient, softmax(z) −
 * onehot(y), vanishes only where an example is already right. Taking −log of clipped
 * probabilities instead gave a gradient of exactly 0 to every example whose true-class
 * probability had fallen below the clip, so such an example was never learned.
 */
export const crossEntropy = (logits: tf.Tensor, y: tf.Tensor, classes: number): tf.Scalar =>
  tf.mean(tf.sub(tf.logSumExp(logits, 1), tf.sum(tf.mul(logits, tf.oneHot(y as tf.Tensor1D, classes)), 1)));

/** How many of a batch's examples have their true class as the most probable (the largest logit). */
export const countCorrect = (logits: tf.Tensor, y: tf.Tensor): number => tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'int32')).dataSync()[0]!;

/**
 * The trainable part's forward pass: the suffix in inference mode (BatchNorm on its moving
 * statistics) unless `batchStatistics` and training, the head's dropout (seeded) when training,
 * then the head.
 */
export const forwardPass = (
  suffix: tfl.LayersModel | undefined,
  head: tfl.LayersModel,
  dropout: number,
  xs: tf.Tensor[],
  training: boolean,
  seed: number,
  batchStatistics = false,
): tf.Tensor => {
  const h = suffix === undefined ? xs[0]! : applySuffix(suffix, xs, training && batchStatistics, seed);
  const dropped = training && dropout > 0 ? tf.dropout(h, dropout, undefined, seed) : h;
  return head.apply(dropped, { training }) as tf.Tensor;
};

/**
 * `tf.variableGrads(f, variables)`, safe when `f` throws. tfjs 4.22 opens a gradient tape for the
 * forward pass and closes it only after the backward pass, so a throw inside `f` left the tape
 * open: every later op in the process was recorded onto it, and the tensors each op saves for its
 * gradient were kept, never freed (16 tensors after one failed step of a small conv net, growing
 * with every op after it). Here a throw is caught inside `f`, which then returns a zero that
 * depends on every variable; the backward pass runs as usual and frees the tape, and the error is
 * thrown again, with nothing left behind.
 */
export const variableGradsOrThrow = (f: () => tf.Scalar, variables: ReadonlyArray<tf.Variable>): { value: tf.Scalar; grads: tf.NamedTensorMap } => {
  let failure: { readonly thrown: unknown } | undefined;
  const out = tf.variableGrads(() => {
    try {
      return f();
    } catch (thrown) {
      failure = { thrown };
      return tf.mul(0, tf.addN(variables.map((v) => tf.sum(v)))) as tf.Scalar;
    }
  }, [...variables]);
  if (failure !== undefined) {
    tf.dispose([out.value, ...Object.values(out.grads)]);
    throw failure.thrown;
  }
  return out;
};

/** What trains in a step: the suffix that trains (if any), the head, and how they run. */
export interface TrainablePart {
  readonly suffix: tfl.LayersModel | undefined;
  readonly head: tfl.LayersModel;
  readonly dropout: number;
  readonly classes: number;
  /** See {@link Parts.batchStatistics}; default false. */
  readonly batchStatistics?: boolean;
}

/**
 * `scale` × the mean cross-entropy of a part of a batch (the forward pass of {@link forwardPass}
 * in training mode), reporting the part's summed loss and correct count as it goes. The whole
 * batch is the part with scale 1; a shared step's parts are weighted by their share of the rows.
 */
export const partLoss = (
  part: TrainablePart,
  xs: tf.Tensor[],
  y: tf.Tensor,
  seed: number,
  scale: number,
  report: (lossSum: number, correct: number) => void,
): tf.Scalar => {
  const logits = forwardPass(part.suffix, part.head, part.dropout, xs, true, seed, part.batchStatistics);
  const ce = crossEntropy(logits, y, part.classes);
  report(ce.dataSync()[0]! * y.shape[0]!, countCorrect(logits, y));
  return scale === 1 ? ce : (tf.mul(scale, ce) as tf.Scalar);
};

/** Seeds of a step's later passes' dropout masks (`deriveSeed(seed, MICRO_BATCH_SEEDS + k)`), apart from the seeds of its thread shares. */
export const MICRO_BATCH_SEEDS = 1000;

/** What one pass of a step gives: its gradients, and its part's summed loss and correct count. */
export interface PassOutcome {
  readonly grads: tf.NamedTensorMap;
  readonly lossSum: number;
  readonly correct: number;
}

/**
 * A step's gradients over `count` rows computed `microBatch` rows at a time and added up:
 * `pass(start, end, k)` computes pass k's (its rows `start` to `end`, its loss weighted by its
 * share of the rows), and only one pass's activations are alive at a time. With one pass this is
 * `pass(0, count, 0)`. The sum equals the whole batch's gradient up to float rounding where rows do
 * not interact (BatchNorm on moving statistics); a pass's dropout masks are its own.
 */
export const accumulatePasses = (count: number, microBatch: number, pass: (start: number, end: number, k: number) => PassOutcome): PassOutcome => {
  if (count <= microBatch) return pass(0, count, 0);
  let total: tf.NamedTensorMap | undefined;
  let lossSum = 0;
  let correct = 0;
  try {
    for (let k = 0, start = 0; start < count; k++, start += microBatch) {
      const part = pass(start, Math.min(count, start + microBatch), k);
      lossSum += part.lossSum;
      correct += part.correct;
      if (total === undefined) {
        total = part.grads;
        continue;
      }
      const before = total;
      try {
        total = tf.tidy(() => Object.fromEntries(Object.keys(before).map((name) => [name, tf.add(before[name]!, part.grads[name]!)])));
      } finally {
        tf.dispose([...Object.values(before), ...Object.values(part.grads)]);
      }
    }
  } catch (thrown) {
    if (total !== undefined) tf.dispose(Object.values(total));
    throw thrown;
  }
  return { grads: total!, lossSum, correct };
};

/** Summed loss and correct count over `count` rows, evaluated `microBatch` rows at a time. */
export const sumPasses = (count: number, microBatch: number, pass: (start: number, end: number) => { lossSum: number; correct: number }): { lossSum: number; correct: number } => {
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < count; start += microBatch) {
    const part = pass(start, Math.min(count, start + microBatch));
    lossSum += part.lossSum;
    correct += part.correct;
  }
  return { lossSum, correct };
};
