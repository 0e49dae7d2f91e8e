import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { either as E, type taskEither as TE } from 'fp-ts';
import type { PhaseArgs, PhaseSession, StepPlan, TransferModel } from '../../core/backbone';
import type { Phase } from '../../core/recipe';
import { guard, guardTask, isRecord, optionsAt } from '../../core/boundary';
import { aborted, backendFailure, carriedError, described, invalidArgument, notSupported, shapeMismatch, within, type TransferError } from '../../core/errors';
import { matrix, type Matrix } from '../../core/matrix';
import { abortSignal, optional, positiveInteger } from '../../core/validate';
import { Stopped } from './compile';
import { replay, split } from './graph';
import { adaptBatchNorm } from './session/batchNorm';
import { yieldToEventLoop } from '../../core/yieldToEventLoop';
import { outputShapes, release, type Layer } from './graph';
import { checkInputs } from './inputs';
import { inputRows, type TfjsInputs } from './inputRows';
import { headForExport } from './head';
import type { GradientSharing, PrefixCaching } from './session/contracts';
import type { Parts } from './session/parts';
import { openSession, planSteps } from './session/phase';

/** The floats one batch's largest layer output may hold when `predict` picks the batch: 2^24 (64 MB). */
export const PREDICT_BATCH_FLOATS = 2 ** 24;

/**
 * `predict`'s batch when the caller gives none: at most 256, and few enough that the largest layer
 * output of a batch stays within {@link PREDICT_BATCH_FLOATS} (13 for MobileNetV2 at 224², whose
 * 112×112×96 maps would need 1.2 GB per tensor at 256 and exhaust the 4 GB wasm heap).
 */
export const defaultPredictBatch = (model: tfl.LayersModel): number => {
  let largest = 1;
  for (const layer of model.layers) {
    for (const dims of outputShapes(layer)) largest = Math.max(largest, dims.reduce<number>((n, d) => n * (d ?? 1), 1));
  }
  return Math.max(1, Math.min(256, Math.floor(PREDICT_BATCH_FLOATS / largest)));
};

const disposedError = (): TransferError => invalidArgument('model', 'a model that has not been disposed', described('a disposed transfer model'));

/**
 * A trained (or training) transfer model on tfjs: a copy of the source's layers up to the tap, a
 * pooling layer and a new head. It owns its tensors: call {@link TfjsTransferModel.dispose} when done.
 * Disposing it never touches the source model.
 */
export class TfjsTransferModel implements TransferModel<TfjsInputs> {
  #disposed = false;

  /** @internal Use `transfer` (or a backbone's `build`) to make one. */
  constructor(
    private readonly parts: Parts,
    /** The whole model: input → copied layers → pooling → head. What predicts and what is saved. */
    private readonly full: tfl.LayersModel,
    private readonly owned: ReadonlyArray<Layer>,
    /** Set when the whole model cannot be saved as one LayersModel: what its backbone is (a GraphModel). */
    private readonly unsavable?: string,
  ) {}

  get isDisposed(): boolean {
    return this.#disposed;
  }

  #sharing: GradientSharing | undefined;
  #prefixCaching: PrefixCaching | undefined;
  /** Backbone layers some phase has trained: their weights may no longer be the source's. */
  readonly #changed = new Set<Layer>();

  /**
   * @internal From the next phase on, each training step splits its batch with the shares
   * `sharing` makes, and runs `sharing.step` (transferkit/tfjs/threads: worker threads).
   */
  useGradientShares(sharing: GradientSharing): void {
    this.#sharing = sharing;
  }

  /**
   * @internal From the next phase on, the frozen prefix is cached by `caching` (worker threads,
   * each holding the source's weights) while the prefix's weights are still the source's.
   */
  usePrefixThreads(caching: PrefixCaching): void {
    this.#prefixCaching = caching;
  }

  startPhase(args: PhaseArgs<TfjsInputs>): TE.TaskEither<TransferError, PhaseSession> {
    return guardTask('model.startPhase', (a: PhaseArgs<TfjsInputs>) => this.#startPhase(a))(args);
  }

  #startPhase(args: PhaseArgs<TfjsInputs>): TE.TaskEither<TransferError, PhaseSession> {
    return async () => {
      if (this.#disposed) return E.left(disposedError());
      // Called by the runner with checked arguments; a caller of its own gets the same checks here.
      if (typeof args !== 'object' || args === null || !(Number.isInteger(args.batchSize) && args.batchSize >= 1) || !(args.labels instanceof Int32Array)) {
        return E.left(invalidArgument('args', 'phase arguments { phase, inputs, labels: Int32Array, batchSize ≥ 1, ... } (transfer makes them)', args));
      }
      const remote = this.#prefixCaching === undefined ? undefined : { caching: this.#prefixCaching, changed: this.#changed };
      const session = await openSession(this.parts, args, remote);
      if (E.isRight(session)) session.right.trained.forEach((l) => this.#changed.add(l));
      // Batch statistics couple a batch's rows, so its parts' gradients would not add up to the
      // whole batch's: a from-scratch model trains on this thread alone.
      const sharing = this.#sharing;
      // So does an adaptation objective, whose terms read whole batches (a covariance, a kernel matrix).
      if (E.isLeft(session) || sharing === undefined || this.parts.batchStatistics || args.objective !== undefined) return session;
      try {
        session.right.attachShares(await sharing.make(session.right.shareSpec(args.batchSize)), sharing);
        return session;
      } catch (thrown) {
        session.right.dispose();
        return E.left(backendFailure(`starting phase ${args.phase.name} on several threads`, thrown));
      }
    };
  }

  /**
   * How the steps of `phase` at `batchSize` fit the backend's memory: the estimated peak bytes of a
   * step per example (from the shapes of what trains; memory.ts), the bytes a step may fill
   * (`memoryBytes`, else what the wasm heap has left; no limit on other backends), and so the
   * examples per forward and backward pass. `NotSupported` when not even one example fits.
   */
  planPhase(phase: Phase, batchSize: number, memoryBytes?: number): E.Either<TransferError, StepPlan> {
    return guard('model.planPhase', (p: Phase, n: number, bytes?: number): E.Either<TransferError, StepPlan> => {
      if (this.#disposed) return E.left(disposedError());
      if (!isRecord(p) || !isRecord(p.trains) || typeof p.name !== 'string') return E.left(invalidArgument('phase', "a recipe's phase { name, trains, ... }", p));
      if (!(Number.isInteger(n) && n >= 1)) return E.left(invalidArgument('batchSize', 'a positive integer', n));
      if (bytes !== undefined && !(typeof bytes === 'number' && bytes > 0)) return E.left(invalidArgument('memoryBytes', 'a number of bytes > 0', bytes));
      try {
        return planSteps(this.parts, p, n, bytes).memory;
      } catch (thrown) {
        return E.left(backendFailure(`planning phase ${p.name}`, thrown));
      }
    })(phase, batchSize, memoryBytes);
  }

  /**
   * Sets every BatchNorm layer's moving statistics to those of its inputs over `inputs` (AdaBN:
   * Li et al., "Revisiting Batch Normalization for Practical Domain Adaptation", 2016): the
   * inputs run through the backbone once, `options.batchSize` at a time, in inference mode except
   * that each BatchNorm normalises by its batch's statistics, and each layer's mean and variance
   * are summed over all of them (session/batchNorm.ts). Nothing else changes; an abort between two batches leaves the
   * statistics as they were. Answers how many layers it set.
   */
  renormalize(inputs: TfjsInputs, options: { readonly batchSize: number; readonly signal?: AbortSignal }): TE.TaskEither<TransferError, number> {
    return guardTask('model.renormalize', (x: TfjsInputs, o: { readonly batchSize: number; readonly signal?: AbortSignal }) => this.#renormalize(x, o))(inputs, options);
  }

  #renormalize(inputs: TfjsInputs, options: { readonly batchSize: number; readonly signal?: AbortSignal }): TE.TaskEither<TransferError, number> {
    return async () => {
      if (this.#disposed) return E.left(disposedError());
      const given = optionsAt('options', options);
      if (E.isLeft(given)) return given;
      const batchSize = positiveInteger('options.batchSize', given.right.batchSize);
      if (E.isLeft(batchSize)) return batchSize;
      const signal = optional(abortSignal, undefined)('options.signal', given.right.signal);
      if (E.isLeft(signal)) return signal;
      const n = checkInputs(this.full, inputs);
      if (E.isLeft(n)) return n;
      const norms = this.parts.backbone.filter((l) => l.getClassName() === 'BatchNormalization');
      if (norms.length === 0) return E.right(0);
      try {
        const { suffix, crossing } = split(this.parts.graph, new Set(this.parts.backbone), this.parts.pooled);
        const backbone = replay(suffix, crossing, this.parts.pooled);
        const rows = inputRows(inputs);
        const size = batchSize.right;
        const stop = signal.right;
        function* batches(): Generator<() => tf.Tensor[]> {
          for (let start = 0; start < rows.count; start += size) {
            if (stop?.aborted === true) throw new Stopped(start / size, Math.ceil(rows.count / size));
            yield () => [tf.cast(rows.batch(start, Math.min(size, rows.count - start)), 'float32')];
          }
        }
        const set = adaptBatchNorm(backbone, batches());
        norms.forEach((l) => this.#changed.add(l));
        return E.right(set);
      } catch (thrown) {
        if (thrown instanceof Stopped) return E.left(aborted(`re-estimating the BatchNorm statistics, batch ${thrown.done + 1} of ${thrown.of}`));
        return E.left(backendFailure('re-estimating the BatchNorm statistics', thrown));
      }
    };
  }

  /**
   * Folds the affine map x ↦ x·A + c of the head's input into the head's first Dense layer:
   * kernel K becomes A·K and bias b becomes c·K + b. A `ShapeMismatch` when A is not features ×
   * features or c not one value per feature; nothing changes then.
   */
  mapHeadInput(map: Matrix, shift: Float32Array): E.Either<TransferError, void> {
    return guard('model.mapHeadInput', (a: Matrix, c: Float32Array) => this.#mapHeadInput(a, c))(map, shift);
  }

  #mapHeadInput(map: Matrix, shift: Float32Array): E.Either<TransferError, void> {
    if (this.#disposed) return E.left(disposedError());
    const first = this.parts.head[0]!;
    const [kernel, bias] = first.getWeights() as [tf.Tensor2D, tf.Tensor1D];
    const d = kernel.shape[0];
    const checked = matrix(map?.rows, map?.cols, map?.data);
    if (E.isLeft(checked)) return E.left(within('map', checked.left));
    if (map.rows !== d || map.cols !== d) return E.left(shapeMismatch('map', `${d} × ${d} (the head's input width)`, `${map.rows} × ${map.cols}`));
    if (!(shift instanceof Float32Array) || shift.length !== d || !shift.every(Number.isFinite)) return E.left(shapeMismatch('shift', `a Float32Array of ${d} finite values`, shift instanceof Float32Array ? `${shift.length} values` : typeof shift));
    try {
      tf.tidy(() => {
        const a = tf.tensor2d(map.data, [d, d]);
        const k = tf.matMul(a, kernel);
        const b = tf.add(tf.reshape(tf.matMul(tf.tensor2d(shift, [1, d]), kernel), [-1]), bias);
        first.setWeights([k, b]);
      });
      return E.right(undefined);
    } catch (thrown) {
      return E.left(backendFailure("mapping the head's input", thrown));
    }
  }

  /**
   * Class probabilities, one row per example, in inference mode, `options.batchSize` examples at a
   * time (by default up to 256, fewer when the largest layer output of a batch would pass 64 MB).
   */
  predict(inputs: TfjsInputs, options?: { readonly batchSize?: number }): TE.TaskEither<TransferError, Matrix> {
    return guardTask('model.predict', (x: TfjsInputs, o?: { readonly batchSize?: number }) => this.#predict(x, o))(inputs, options);
  }

  #predict(inputs: TfjsInputs, options?: { readonly batchSize?: number }): TE.TaskEither<TransferError, Matrix> {
    return async () => {
      if (this.#disposed) return E.left(disposedError());
      try {
        const given = optionsAt('options', options);
        if (E.isLeft(given)) return given;
        const batchSize = optional(positiveInteger, undefined as number | undefined)('options.batchSize', given.right.batchSize);
        if (E.isLeft(batchSize)) return batchSize;
        const n = checkInputs(this.full, inputs);
        if (E.isLeft(n)) return n;
        const rows = inputRows(inputs);
        const size = batchSize.right ?? defaultPredictBatch(this.full);
        let out: Float32Array | undefined;
        let classes = 0;
        // A batch at a time, each read as its own tensor: stored inputs never form one tensor.
        for (let start = 0; start < rows.count; start += size) {
          if (start > 0) await yieldToEventLoop();
          const part = Math.min(size, rows.count - start);
          const probs = tf.tidy(() => this.full.predict(rows.batch(start, part), { batchSize: part }) as tf.Tensor);
          try {
            classes = probs.shape[1]!;
            out ??= new Float32Array(rows.count * classes);
            out.set(probs.dataSync() as Float32Array, start * classes);
          } finally {
            probs.dispose();
          }
        }
        return matrix(rows.count, classes, out!);
      } catch (thrown) {
        return E.left(backendFailure('predicting', thrown));
      }
    };
  }

  /**
   * Saves the whole model (copied layers, pooling and head) as one tfjs LayersModel through any
   * IOHandler or URL scheme tfjs accepts (`'file://…'` with tfjs-node, `'indexeddb://…'`,
   * `tf.io.withSaveHandler(…)`). Load it back with `tf.loadLayersModel`; it predicts the same.
   * `NotSupported` for a model on a GraphModel backbone (the graph is not a LayersModel's layers):
   * save its head with {@link TfjsTransferModel.saveHead}.
   */
  save(handlerOrUrl: tf.io.IOHandler | string): TE.TaskEither<TransferError, tf.io.SaveResult> {
    return guardTask('model.save', (h: tf.io.IOHandler | string) => this.#save(h))(handlerOrUrl);
  }

  #save(handlerOrUrl: tf.io.IOHandler | string): TE.TaskEither<TransferError, tf.io.SaveResult> {
    return async () => {
      if (this.#disposed) return E.left(disposedError());
      if (this.unsavable !== undefined) {
        return E.left(notSupported('model', 'a model on a LayersModel backbone; save the head alone with saveHead, and put it back on the same backbone with attachHead', `a model on ${this.unsavable}`));
      }
      if (typeof handlerOrUrl !== 'string' && (typeof handlerOrUrl !== 'object' || handlerOrUrl === null || typeof handlerOrUrl.save !== 'function')) {
        return E.left(invalidArgument('handlerOrUrl', "a tfjs IOHandler with save(), or a URL such as 'indexeddb://name'", handlerOrUrl));
      }
      try {
        return E.right(await this.full.save(handlerOrUrl));
      } catch (thrown) {
        return E.left(carriedError(thrown) ?? backendFailure('saving the model', thrown));
      }
    };
  }

  /**
   * Saves the head alone (the pooled tap's features → logits → softmax), a few kB, with metadata
   * that says where it attaches; `attachHead` puts it back on the same backbone, where it predicts
   * as this model does. Only for a model whose backbone did not train and starts from the source's
   * weights (the feature extractor, the earlier-layer tap): otherwise `NotSupported`, save the
   * whole model with {@link TfjsTransferModel.save}.
   */
  saveHead(handlerOrUrl: tf.io.IOHandler | string): TE.TaskEither<TransferError, tf.io.SaveResult> {
    return guardTask('model.saveHead', (h: tf.io.IOHandler | string) => this.#saveHead(h))(handlerOrUrl);
  }

  #headExport: tfl.LayersModel | undefined;

  #saveHead(handlerOrUrl: tf.io.IOHandler | string): TE.TaskEither<TransferError, tf.io.SaveResult> {
    return async () => {
      if (this.#disposed) return E.left(disposedError());
      if (this.parts.batchStatistics || this.#changed.size > 0) {
        const what = this.parts.batchStatistics ? 'a model trained from random weights' : `a model that fine-tuned ${this.#changed.size} backbone layers`;
        return E.left(notSupported('model', "a model whose backbone kept the source's weights (a head-only recipe); save the whole model instead", what));
      }
      if (typeof handlerOrUrl !== 'string' && (typeof handlerOrUrl !== 'object' || handlerOrUrl === null || typeof handlerOrUrl.save !== 'function')) {
        return E.left(invalidArgument('handlerOrUrl', "a tfjs IOHandler with save(), or a URL such as 'indexeddb://name'", handlerOrUrl));
      }
      try {
        this.#headExport ??= headForExport(this.parts);
        return E.right(await this.#headExport.save(handlerOrUrl));
      } catch (thrown) {
        return E.left(backendFailure('saving the head', thrown));
      }
    };
  }

  /** A copy of every weight, keyed `layer/weight`, for checking what a phase changed; an error once disposed. */
  weights(): E.Either<TransferError, ReadonlyMap<string, Float32Array>> {
    return guard('model.weights', () => this.#weights())();
  }

  #weights(): E.Either<TransferError, ReadonlyMap<string, Float32Array>> {
    if (this.#disposed) return E.left(disposedError());
    const out = new Map<string, Float32Array>();
    for (const layer of this.owned) {
      for (const w of layer.weights) out.set(`${layer.name}/${w.originalName.split('/').pop()}`, Float32Array.from(w.read().dataSync() as ArrayLike<number>));
    }
    return E.right(out);
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.owned.forEach(release);
  }
}
