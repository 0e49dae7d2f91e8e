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
 * training mode (its dropout). A model that starts from random weights (`Parts.batchStatistics`)
 * has no statistics worth keeping: its layers train in training mode, BatchNorm on batch
 * statistics, updating its moving ones, as in ordinary training.
 *
 * A session may also split each step's batch with {@link GradientShare}s (worker threads, from
 * transferkit/tfjs/threads): since BatchNorm runs on its moving statistics, the parts are
 * independent and their gradients simply add up (a from-scratch model takes no shares).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { either as E } from 'fp-ts';
import type { BatchOutcome, InputSet, PhaseArgs, PhaseSession } from '../../core/backbone';
import { aborted, backendFailure, type TransferError } from '../../core/errors';
import { deriveSeed } from '../../core/random';
import { chunkedRows, DEFAULT_CHUNK_FLOATS, type RowStore, type RowStoreFactory } from '../../core/rowStore';
import { compilePrefix, forEachBatchUntil, Stopped, type CompiledPrefix } from './compile';
import { adam } from './kernels/adam';
import { byteOffset, isHeapBackend } from './kernels/heap';
import { applyPolicy, replay, split, type Layer, type SymbolicTensor } from './graph';
import { applySuffix } from './suffix';

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
  /**
   * Whether the backbone layers that train run in training mode (BatchNorm on batch statistics,
   * updating its moving ones): for a model from random weights. Otherwise they run in inference mode.
   */
  readonly batchStatistics: boolean;
}

/**
 * Part of each training batch computed elsewhere — another thread — on a copy of the trainable
 * models: the gradient of `scale` × the mean cross-entropy over its rows. `compute` must return
 * at once and settle later. The session adds the shares' gradients to its own (the batch's mean
 * cross-entropy is the scale-weighted sum of the parts' means) and applies them once.
 */
export interface GradientShare {
  compute(request: ShareRequest): Promise<ShareResult>;
  dispose(): void;
}

/**
 * A request's arrays are the share's own: it may transfer them to another thread (the session
 * keeps no reference to them).
 */
export interface ShareRequest {
  /** The trainable weights' current values, in {@link ShareSpec.trained} order. */
  readonly weights: ReadonlyArray<Float32Array>;
  /** The share's rows, one array per cached input (row-major, `count` rows). */
  readonly rows: ReadonlyArray<Float32Array>;
  readonly count: number;
  readonly labels: Int32Array;
  readonly scale: number;
  /** Seeds the head's dropout for these rows. */
  readonly seed: number;
}

export interface ShareResult {
  /**
   * Gradients in {@link ShareSpec.trained} order. A share may write them into the request's weight
   * arrays and return those: the session hands a share's returned arrays back to it as the next
   * request's weights, so the same few megabytes go back and forth instead of new ones each step.
   */
  readonly grads: ReadonlyArray<Float32Array>;
  /** Cross-entropy summed over the share's rows, and how many it classified right. */
  readonly lossSum: number;
  readonly correct: number;
}

/** What a share needs to compute what the session computes. */
export interface ShareSpec {
  /** The trainable backbone part (inputs: the cached tensors), if any layer of the backbone trains. */
  readonly suffix: tfl.LayersModel | undefined;
  readonly head: tfl.LayersModel;
  readonly dropout: number;
  readonly classes: number;
  /** The trainable weights, as `layer/weight` keys, in the order of requests and results. */
  readonly trained: ReadonlyArray<string>;
  readonly shapes: ReadonlyArray<ReadonlyArray<number>>;
  /** Each cached input's row shape. */
  readonly rowShapes: ReadonlyArray<ReadonlyArray<number>>;
  /** The most rows one request can carry. */
  readonly maxRows: number;
}

/** Makes the shares of a phase (one per other thread), or none. */
export type GradientShareFactory = (spec: ShareSpec) => Promise<ReadonlyArray<GradientShare>>;

/**
 * A tensor of the source model's graph, by name, as another thread's copy of the source can find
 * it: output `index` of layer `layer`'s first call, pooled by a fresh layer of class `pool` (the
 * transfer model's own pooling layer, which the source does not have) when given.
 */
export interface TensorRef {
  readonly layer: string;
  readonly index: number;
  readonly pool?: string;
}

/**
 * Other threads that hold the source model's weights and can run a frozen prefix: each `run`
 * computes the `outputs` for a slice of the inputs, a batch at a time, and settles with one array of
 * rows (row-major) per output. Used only while the prefix's weights are still the source's.
 */
export interface PrefixThreads {
  /** How many threads there are (0 once they have stopped). */
  readonly count: number;
  /**
   * The prefix's outputs for a batch (`data`, which the thread owns from then on), one array per
   * output; `data` comes back with them, to be reused for another batch.
   */
  run(
    thread: number,
    request: { readonly outputs: ReadonlyArray<TensorRef>; readonly data: Float32Array; readonly shape: number[]; readonly batchSize: number },
  ): Promise<{ readonly rows: Float32Array[]; readonly data: Float32Array }>;
  /** The phase's caching is over: the threads free what they compiled for it. */
  done(): Promise<void>;
}

/** A weight's key: its layer's name and its own short name, e.g. `features/kernel`. */
export const weightKey = (layerName: string, originalName: string): string => `${layerName}/${originalName.split('/').pop()}`;

const rowSize = (shape: ReadonlyArray<number>): number => shape.reduce((a, b) => a * b, 1);

/** Cached prefix outputs of one crossing tensor: a row per example. */
interface Cached {
  readonly store: RowStore;
  readonly shape: ReadonlyArray<number>;
}

/**
 * One row store per crossing tensor, filled by `fill` (which appends a tensor's rows by its
 * index); on failure the stores are freed.
 */
const fillStores = async (
  crossing: ReadonlyArray<SymbolicTensor>,
  store: RowStoreFactory,
  fill: (append: (k: number, rows: Float32Array) => void) => void | Promise<void>,
): Promise<Cached[]> => {
  const cached: Cached[] = [];
  try {
    for (const t of crossing) {
      const shape = (t.shape as number[]).slice(1);
      const made = store(rowSize(shape));
      if (typeof made !== 'object' || made === null || ['append', 'gather', 'dispose'].some((m) => typeof (made as unknown as Record<string, unknown>)[m] !== 'function')) {
        throw new TypeError('the activation store factory returned something other than a row store (append, gather, dispose)');
      }
      cached.push({ store: made, shape });
    }
    await fill((k, rows) => cached[k]!.store.append(rows));
    return cached;
  } catch (thrown) {
    cached.forEach((c) => c.store.dispose());
    throw thrown;
  }
};

/**
 * Runs the compiled frozen prefix over the inputs, a batch at a time, and appends each crossing
 * tensor's rows to its own store: memory holds one batch of activations beyond the stores.
 */
const cache = (prefix: CompiledPrefix, crossing: ReadonlyArray<SymbolicTensor>, x: tf.Tensor, batchSize: number, store: RowStoreFactory, signal: AbortSignal | undefined): Promise<Cached[]> =>
  fillStores(crossing, store, (append) => forEachBatchUntil(prefix, x, batchSize, signal, (outputs) => outputs.forEach((o, k) => append(k, o.dataSync() as Float32Array))));

/**
 * {@link cache} on other threads: each thread keeps up to two batches in flight and takes the next
 * batch as soon as it ends one (a slower thread gets fewer), while at most two batches per thread
 * are out beyond the stores; the rows are appended in input order as their batches come back, so
 * the stores hold what this thread would have computed. Once `signal` fires no batch is sent; the
 * ones under way are awaited, then it throws {@link Stopped}.
 */
const cacheOnThreads = (
  threads: PrefixThreads,
  count: number,
  refs: ReadonlyArray<TensorRef>,
  crossing: ReadonlyArray<SymbolicTensor>,
  x: tf.Tensor,
  batchSize: number,
  store: RowStoreFactory,
  signal: AbortSignal | undefined,
): Promise<Cached[]> =>
  fillStores(crossing, store, async (append) => {
    const n = x.shape[0]!;
    const batches = Math.ceil(n / batchSize);
    /** Input arrays the threads have sent back, to read the next batches into. */
    const spare: Float32Array[] = [];
    const ask = async (thread: number, b: number): Promise<Float32Array[]> => {
      const from = b * batchSize;
      const size = Math.min(batchSize, n - from);
      const part = tf.slice(x, from, size);
      let data: Float32Array;
      try {
        const reuse = spare.findIndex((a) => a.length === part.size);
        data = readInto(part, reuse < 0 ? new Float32Array(part.size) : spare.splice(reuse, 1)[0]!);
      } finally {
        part.dispose();
      }
      const answer = await threads.run(thread, { outputs: refs, data, shape: [size, ...x.shape.slice(1)], batchSize });
      spare.push(answer.data);
      return answer.rows;
    };
    const finished = new Map<number, Float32Array[]>();
    const running = new Set<Promise<void>>();
    /** A slot per batch a thread may hold: thread t twice. */
    const free = Array.from({ length: 2 * count }, (_, i) => i % count);
    let next = 0;
    let appended = 0;
    let failure: { thrown: unknown } | undefined;
    await new Promise<void>((resolve) => {
      const pump = (): void => {
        if (signal?.aborted === true) failure ??= { thrown: new Stopped(appended, batches) };
        while (failure === undefined && free.length > 0 && next < batches && next - appended < 2 * count) {
          const thread = free.shift()!;
          const b = next++;
          const job = (async () => {
            try {
              finished.set(b, await ask(thread, b));
              for (; finished.has(appended); appended++) {
                finished.get(appended)!.forEach((r, k) => append(k, r));
                finished.delete(appended);
              }
            } catch (thrown) {
              failure ??= { thrown };
            }
          })();
          running.add(job);
          void job.then(() => {
            running.delete(job);
            free.push(thread);
            pump();
          });
        }
        // Done once every batch is appended, or, after a failure, once no thread is mid-request.
        if (failure === undefined ? appended === batches : running.size === 0) resolve();
      };
      pump();
    });
    if (failure !== undefined) throw failure.thrown;
  });

const gatherRows = (c: Cached, indices: Int32Array): tf.Tensor => {
  const out = new Float32Array(indices.length * c.store.rowSize);
  c.store.gather(indices, out);
  return tf.tensor(out, [indices.length, ...c.shape], 'float32');
};

/** Mean cross-entropy of the true classes' probabilities (clipped away from 0). */
const crossEntropy = (probs: tf.Tensor, y: tf.Tensor, classes: number): tf.Scalar =>
  tf.neg(tf.mean(tf.log(tf.clipByValue(tf.sum(tf.mul(probs, tf.oneHot(y as tf.Tensor1D, classes)), 1), 1e-7, 1)))) as tf.Scalar;

const countCorrect = (probs: tf.Tensor, y: tf.Tensor): number => tf.sum(tf.cast(tf.equal(tf.argMax(probs, 1), y), 'int32')).dataSync()[0]!;

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
  const probs = forwardPass(part.suffix, part.head, part.dropout, xs, true, seed, part.batchStatistics);
  const ce = crossEntropy(probs, y, part.classes);
  report(ce.dataSync()[0]! * y.shape[0]!, countCorrect(probs, y));
  return scale === 1 ? ce : (tf.mul(scale, ce) as tf.Scalar);
};

const diverged = (): TransferError => backendFailure('a training step', new Error('the loss is not finite (training diverged: try a lower learning rate)'));

export class TfjsPhaseSession implements PhaseSession {
  readonly #optimizer: tf.Optimizer;
  readonly #variables: tf.Variable[];
  readonly #kernels: tf.Variable[];
  /** The trainable weights' keys (`layer/weight`), in the order of `#variables`. */
  readonly #keys: string[];
  #shares: ReadonlyArray<GradientShare> = [];
  /** Per share, the arrays it returned with its last gradients, to carry its next weights. */
  #spare: Array<ReadonlyArray<Float32Array> | undefined> = [];

  constructor(
    private readonly parts: Parts,
    private readonly suffix: tfl.LayersModel | undefined,
    private readonly cached: Record<InputSet, { rows: Cached[]; labels: Int32Array } | undefined>,
    private readonly args: PhaseArgs<tf.Tensor>,
    /** The backbone layers this phase trains. */
    readonly trained: ReadonlySet<Layer>,
    readonly cacheMs: number,
    readonly cacheThreads: number,
  ) {
    const { learningRate, optimizer } = args.phase;
    this.#optimizer = optimizer === 'adam' ? adam(learningRate) : tf.train.sgd(learningRate);
    const layers = [...trained, ...parts.head];
    const weights = layers.flatMap((l) => l.trainableWeights);
    this.#variables = weights.map((w) => w.read() as tf.Variable);
    this.#keys = layers.flatMap((l) => l.trainableWeights.map((w) => weightKey(l.name, w.originalName)));
    // tfjs makes variable names unique with a suffix (`kernel_1` for the second model built in a
    // process), which once hid every kernel from the L2 penalty after the first run; the original
    // name is stable.
    this.#kernels = weights.filter((w) => /kernel$/.test(w.originalName)).map((w) => w.read() as tf.Variable);
  }

  #forward(xs: tf.Tensor[], training: boolean, seed: number): tf.Tensor {
    return forwardPass(this.suffix, this.parts.headModel, this.parts.dropout, xs, training, seed, this.parts.batchStatistics);
  }

  /** What this thread minimises for its part of a batch: {@link partLoss}, plus the L2 penalty (once per step). */
  #objective(xs: tf.Tensor[], y: tf.Tensor, seed: number, scale: number, report: (lossSum: number, correct: number) => void): tf.Scalar {
    const { suffix, parts } = this;
    const part = { suffix, head: parts.headModel, dropout: parts.dropout, classes: parts.classes, batchStatistics: parts.batchStatistics };
    const loss = partLoss(part, xs, y, seed, scale, report);
    const l2 = this.args.phase.regularization.l2;
    if (l2 === 0 || this.#kernels.length === 0) return loss;
    return tf.add(loss, tf.mul(l2, tf.addN(this.#kernels.map((k) => tf.sum(tf.square(k)))))) as tf.Scalar;
  }

  #batch(set: InputSet, indices: Int32Array): { xs: tf.Tensor[]; y: tf.Tensor } {
    const c = this.cached[set]!;
    return { xs: c.rows.map((r) => gatherRows(r, indices)), y: tf.tensor1d(indices.map((i) => c.labels[i]!), 'int32') };
  }

  /** What a {@link GradientShare} needs to compute part of each batch. */
  shareSpec(batchSize: number): ShareSpec {
    const rows = this.cached.train!.rows;
    return {
      suffix: this.suffix,
      head: this.parts.headModel,
      dropout: this.parts.dropout,
      classes: this.parts.classes,
      trained: this.#keys,
      shapes: this.#variables.map((v) => v.shape),
      rowShapes: rows.map((r) => r.shape),
      maxRows: batchSize,
    };
  }

  get trainThreads(): number {
    return this.#shares.length + 1;
  }

  /** From now on each step splits its batch between this thread and the shares. */
  attachShares(shares: ReadonlyArray<GradientShare>): void {
    this.#shares = shares;
  }

  step(indices: Int32Array, stepNumber: number): E.Either<TransferError, BatchOutcome> | Promise<E.Either<TransferError, BatchOutcome>> {
    if (this.#shares.length > 0 && indices.length > this.#shares.length) return this.#sharedStep(indices, stepNumber);
    try {
      let lossSum = Number.NaN;
      let correct = 0;
      tf.tidy(() => {
        const { xs, y } = this.#batch('train', indices);
        this.#optimizer.minimize(
          () =>
            this.#objective(xs, y, deriveSeed(this.args.seed, stepNumber), 1, (l, c) => {
              lossSum = l;
              correct = c;
            }),
          false,
          this.#variables,
        );
      });
      if (!Number.isFinite(lossSum)) return E.left(diverged());
      return E.right({ lossSum, correct });
    } catch (thrown) {
      return E.left(backendFailure('a training step', thrown));
    }
  }

  /**
   * One step with the batch split in contiguous parts: this thread computes the first, each share
   * one of the others, at the same time; the gradients add up to the whole batch's (each part's
   * mean cross-entropy weighted by its share of the rows; the L2 penalty once, here), and the
   * optimizer applies them once. Each part's dropout has its own seed.
   */
  async #sharedStep(indices: Int32Array, stepNumber: number): Promise<E.Either<TransferError, BatchOutcome>> {
    const n = indices.length;
    const size = Math.ceil(n / (this.#shares.length + 1));
    const own = indices.subarray(0, size);
    const c = this.cached.train!;
    const seed = deriveSeed(this.args.seed, stepNumber);
    const pending: Array<Promise<ShareResult>> = [];
    /** The shares asked, in `pending`'s order. */
    const asked: number[] = [];
    try {
      this.#shares.forEach((share, k) => {
        const part = indices.subarray((k + 1) * size, Math.min(n, (k + 2) * size));
        if (part.length === 0) return;
        const rows = c.rows.map((r) => {
          const out = new Float32Array(part.length * r.store.rowSize);
          r.store.gather(part, out);
          return out;
        });
        // Each share gets arrays of its own: the ones it returned last step, or new ones.
        const spare = this.#spare[k];
        this.#spare[k] = undefined;
        const weights = this.#variables.map((v, i) => readInto(v, spare?.[i]?.length === v.size ? spare[i]! : new Float32Array(v.size)));
        asked.push(k);
        pending.push(share.compute({ weights, rows, count: part.length, labels: Int32Array.from(part, (i) => c.labels[i]!), scale: part.length / n, seed: deriveSeed(seed, k + 1) }));
      });
      // This thread's part, while the others compute theirs.
      let loss = Number.NaN;
      let correct = 0;
      const ownGrads = tf.tidy(() => {
        const { xs, y } = this.#batch('train', own);
        return tf.variableGrads(
          () =>
            this.#objective(xs, y, seed, own.length / n, (l, c) => {
              loss = l;
              correct = c;
            }),
          this.#variables,
        ).grads;
      });
      let results: ShareResult[];
      try {
        results = await Promise.all(pending);
        tf.tidy(() => {
          const total: tf.NamedTensorMap = {};
          this.#variables.forEach((v, i) => {
            total[v.name] = results.reduce((sum, r) => tf.add(sum, tensorOf(r.grads[i]!, v.shape)), ownGrads[v.name]!);
          });
          this.#optimizer.applyGradients(total);
        });
        // Read into tensors above: the arrays go back to their shares as the next weights.
        results.forEach((r, j) => (this.#spare[asked[j]!] = r.grads));
      } finally {
        tf.dispose(Object.values(ownGrads));
      }
      const lossSum = results.reduce((sum, r) => sum + r.lossSum, loss);
      if (!Number.isFinite(lossSum)) return E.left(diverged());
      return E.right({ lossSum, correct: results.reduce((sum, r) => sum + r.correct, correct) });
    } catch (thrown) {
      await Promise.allSettled(pending); // no share is left mid-request
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
    this.#shares.forEach((share) => share.dispose());
    this.#shares = [];
    this.#optimizer.dispose();
    for (const set of [this.cached.train, this.cached.validation]) set?.rows.forEach((c) => c.store.dispose());
  }
}

/**
 * The crossing tensors as another thread's copy of the source can find them, or undefined where it
 * cannot (a crossing tensor is the model's input: there is nothing to run).
 */
const tensorRefs = (parts: Parts, crossing: ReadonlyArray<SymbolicTensor>): TensorRef[] | undefined => {
  const backbone = new Set<Layer>(parts.backbone);
  const refs: TensorRef[] = [];
  for (const t of crossing) {
    let layer = t.sourceLayer as Layer;
    let tensor = t;
    let pool: string | undefined;
    if (!backbone.has(layer)) {
      // The transfer model's own pooling layer: the source has the tensor it pools.
      const input = layer.inboundNodes[0]?.inputTensors[0];
      if (layer.getClassName() === 'InputLayer' || input === undefined || !backbone.has(input.sourceLayer as Layer)) return undefined;
      pool = layer.getClassName();
      tensor = input;
      layer = input.sourceLayer as Layer;
    }
    const index = layer.inboundNodes[0]?.outputTensors.findIndex((o) => o.id === tensor.id) ?? -1;
    if (index < 0) return undefined;
    refs.push(pool === undefined ? { layer: layer.name, index } : { layer: layer.name, index, pool });
  }
  return refs;
};

/** Where a phase may cache its frozen prefix besides this thread. */
export interface RemotePrefix {
  readonly threads: PrefixThreads;
  /** Layers whose weights may differ from the source's (trained in an earlier phase). */
  readonly changed: ReadonlySet<Layer>;
}

/**
 * Opens a phase: applies its policy, splits the graph, caches the frozen prefix's outputs — on
 * `remote` threads when given and the prefix's weights are still the source's, else here.
 */
export const openSession = async (parts: Parts, args: PhaseArgs<tf.Tensor>, remote?: RemotePrefix): Promise<E.Either<TransferError, TfjsPhaseSession>> => {
  let prefix: CompiledPrefix | undefined;
  let train: Cached[] = [];
  try {
    const trained = applyPolicy(parts.backbone, args.phase.trains);
    const { suffix, crossing } = split(parts.graph, trained, parts.pooled);
    const suffixModel = suffix.length === 0 ? undefined : replay(suffix, crossing, parts.pooled);
    const inSuffix = new Set(suffix);
    const prefixChanged = parts.batchStatistics || (remote !== undefined && parts.graph.some((l) => !inSuffix.has(l) && remote.changed.has(l)));
    const floats = args.inputs.dtype === 'float32' && (args.validation === undefined || args.validation.inputs.dtype === 'float32');
    // Read once: closing the threads mid-phase makes their requests fail, not this loop spin.
    const threadCount = remote?.threads.count ?? 0;
    const refs = threadCount === 0 || prefixChanged || !floats ? undefined : tensorRefs(parts, crossing);
    const store = args.store ?? chunkedRows(DEFAULT_CHUNK_FLOATS);
    const started = performance.now();
    const run = async (x: tf.Tensor): Promise<Cached[]> => {
      if (refs !== undefined) return cacheOnThreads(remote!.threads, threadCount, refs, crossing, x, args.batchSize, store, args.signal);
      prefix ??= compilePrefix(parts.input, crossing);
      return cache(prefix, crossing, x, args.batchSize, store, args.signal);
    };
    let validation: { rows: Cached[]; labels: Int32Array } | undefined;
    try {
      train = await run(args.inputs);
      const v = args.validation;
      validation = v === undefined ? undefined : { rows: await run(v.inputs), labels: v.labels };
    } finally {
      if (refs !== undefined) await remote!.threads.done();
    }
    const cacheMs = performance.now() - started;
    const cacheThreads = refs !== undefined ? threadCount : crossing.every((t) => t.id === parts.input.id) ? 0 : 1;
    return E.right(new TfjsPhaseSession(parts, suffixModel, { train: { rows: train, labels: args.labels }, validation }, args, trained, cacheMs, cacheThreads));
  } catch (thrown) {
    train.forEach((c) => c.store.dispose());
    if (thrown instanceof Stopped) return E.left(aborted(`phase ${args.phase.name}, caching the frozen part, batch ${thrown.done + 1} of ${thrown.of}`));
    return E.left(backendFailure(`starting phase ${args.phase.name}`, thrown));
  } finally {
    prefix?.dispose();
  }
};
