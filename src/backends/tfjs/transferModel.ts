import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { either as E, type taskEither as TE } from 'fp-ts';
import type { BuildSpec, PhaseArgs, PhaseSession, Pooling, TransferModel } from '../../core/backbone';
import { guard, guardTask, optionsAt } from '../../core/boundary';
import { backendFailure, described, invalidArgument, notSupported, shapeMismatch, type TransferError } from '../../core/errors';
import type { Matrix } from '../../core/matrix';
import { optional, positiveInteger } from '../../core/validate';
import { deriveSeed } from '../../core/random';
import { ancestors, release, type Layer, type SymbolicTensor } from './graph';
import { asFloat, checkInputs, nonFiniteWeight } from './inputs';
import { HEAD_METADATA_KEY, type HeadMetadata } from './head';
import { toMatrix } from './matrix';
import type { GradientSharing, PrefixCaching } from './session/contracts';
import type { Parts } from './session/parts';
import { openSession } from './session/phase';

const disposedError = (): TransferError => invalidArgument('model', 'a model that has not been disposed', described('a disposed transfer model'));

/**
 * A trained (or training) transfer model on tfjs: a copy of the source's layers up to the tap, a
 * pooling layer and a new head. It owns its tensors: call {@link TfjsTransferModel.dispose} when done.
 * Disposing it never touches the source model.
 */
export class TfjsTransferModel implements TransferModel<tf.Tensor> {
  #disposed = false;

  /** @internal Use `transfer` (or a backbone's `build`) to make one. */
  constructor(
    private readonly parts: Parts,
    /** The whole model: input → copied layers → pooling → head. What predicts and what is saved. */
    private readonly full: tfl.LayersModel,
    private readonly owned: ReadonlyArray<Layer>,
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

  startPhase(args: PhaseArgs<tf.Tensor>): TE.TaskEither<TransferError, PhaseSession> {
    return guardTask('model.startPhase', (a: PhaseArgs<tf.Tensor>) => this.#startPhase(a))(args);
  }

  #startPhase(args: PhaseArgs<tf.Tensor>): TE.TaskEither<TransferError, PhaseSession> {
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
      if (E.isLeft(session) || sharing === undefined || this.parts.batchStatistics) return session;
      try {
        session.right.attachShares(await sharing.make(session.right.shareSpec(args.batchSize)), sharing.step);
        return session;
      } catch (thrown) {
        session.right.dispose();
        return E.left(backendFailure(`starting phase ${args.phase.name} on several threads`, thrown));
      }
    };
  }

  /** Class probabilities, one row per example, in inference mode. */
  predict(inputs: tf.Tensor, options?: { readonly batchSize?: number }): TE.TaskEither<TransferError, Matrix> {
    return guardTask('model.predict', (x: tf.Tensor, o?: { readonly batchSize?: number }) => this.#predict(x, o))(inputs, options);
  }

  #predict(inputs: tf.Tensor, options?: { readonly batchSize?: number }): TE.TaskEither<TransferError, Matrix> {
    return async () => {
      if (this.#disposed) return E.left(disposedError());
      try {
        const given = optionsAt('options', options);
        if (E.isLeft(given)) return given;
        const batchSize = optional(positiveInteger, 256)('options.batchSize', given.right.batchSize);
        if (E.isLeft(batchSize)) return batchSize;
        const n = checkInputs(this.full, inputs);
        if (E.isLeft(n)) return n;
        return await asFloat(inputs, (floats) => {
          const probs = this.full.predict(floats, { batchSize: batchSize.right }) as tf.Tensor;
          try {
            return toMatrix(probs);
          } finally {
            probs.dispose();
          }
        });
      } catch (thrown) {
        return E.left(backendFailure('predicting', thrown));
      }
    };
  }

  /**
   * Saves the whole model (copied layers, pooling and head) as one tfjs LayersModel through any
   * IOHandler or URL scheme tfjs accepts (`'file://…'` with tfjs-node, `'indexeddb://…'`,
   * `tf.io.withSaveHandler(…)`). Load it back with `tf.loadLayersModel`; it predicts the same.
   */
  save(handlerOrUrl: tf.io.IOHandler | string): TE.TaskEither<TransferError, tf.io.SaveResult> {
    return guardTask('model.save', (h: tf.io.IOHandler | string) => this.#save(h))(handlerOrUrl);
  }

  #save(handlerOrUrl: tf.io.IOHandler | string): TE.TaskEither<TransferError, tf.io.SaveResult> {
    return async () => {
      if (this.#disposed) return E.left(disposedError());
      if (typeof handlerOrUrl !== 'string' && (typeof handlerOrUrl !== 'object' || handlerOrUrl === null || typeof handlerOrUrl.save !== 'function')) {
        return E.left(invalidArgument('handlerOrUrl', "a tfjs IOHandler with save(), or a URL such as 'indexeddb://name'", handlerOrUrl));
      }
      try {
        return E.right(await this.full.save(handlerOrUrl));
      } catch (thrown) {
        return E.left(backendFailure('saving the model', thrown));
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
        if (this.#headExport === undefined) {
          // The head's own layers, applied once more: no new weights, and built once per model.
          const features = this.parts.pooled.shape[1]!;
          const input = tfl.input({ shape: [features] });
          const probabilities = tfl.layers.softmax({ name: 'transferkit_head_softmax' }).apply(applyAll(this.parts.head, input)) as SymbolicTensor;
          const model = tfl.model({ inputs: input, outputs: probabilities, name: 'transferkit_head' });
          const meta: HeadMetadata = { tap: this.parts.tap, pooling: this.parts.pooling, features, classes: this.parts.classes };
          model.setUserDefinedMetadata({ [HEAD_METADATA_KEY]: meta });
          this.#headExport = model;
        }
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

/** A name not used by any of `taken`: `base`, else `base_2`, `base_3`, … */
const freshName = (base: string, taken: Set<string>): string => {
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base}_${i}`;
  taken.add(name);
  return name;
};

/** The layer that turns the tap's output into one vector per example, or none for a vector already. */
const poolingLayer = (output: SymbolicTensor, pooling: Pooling, name: string): E.Either<TransferError, Layer | undefined> => {
  const rank = output.shape.length;
  if (rank === 2) return E.right(undefined);
  if (pooling === 'flatten') return E.right(tfl.layers.flatten({ name }));
  if (rank === 4) return E.right(tfl.layers.globalAveragePooling2d({ name }));
  if (rank === 3) return E.right(tfl.layers.globalAveragePooling1d({ name }));
  return E.left(shapeMismatch('tap', "an output of rank 2, 3 or 4 for average pooling (or pooling: 'flatten')", `rank ${rank}`));
};

/**
 * The head's layers: hidden ReLU dense layers, then a linear layer of one logit per class;
 * initialisation seeded. Training reads the logits (a stable log-softmax loss, steps.ts); the
 * whole model adds the softmax after them, so it predicts and saves probabilities.
 */
const headLayers = (spec: BuildSpec, taken: Set<string>): Layer[] => {
  const units = [...spec.head.hidden, spec.classes];
  return units.map((n, i) =>
    tfl.layers.dense({
      units: n,
      activation: i === units.length - 1 ? 'linear' : 'relu',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: deriveSeed(spec.seed, 100 + i) }),
      biasInitializer: 'zeros',
      name: freshName(i === units.length - 1 ? 'transferkit_head_output' : `transferkit_head_hidden_${i}`, taken),
    }),
  );
};

const applyAll = (layers: ReadonlyArray<Layer>, x: SymbolicTensor): SymbolicTensor =>
  layers.reduce((h, layer) => layer.apply(h) as SymbolicTensor, x);

/**
 * Gives every seedable initialiser in a serialised topology its own seed derived from `seed`, in the
 * order they appear (`VarianceScaling`, `RandomNormal`, ... carry a `seed` field; `Zeros`, `Ones`
 * do not), so a model built from it starts from the same random weights every time.
 */
const seedInitializers = (node: unknown, seed: number, counter = { next: 0 }): unknown => {
  if (Array.isArray(node)) return node.map((item) => seedInitializers(item, seed, counter));
  if (node === null || typeof node !== 'object') return node;
  const entries = Object.entries(node as Record<string, unknown>).map(([key, value]): [string, unknown] => {
    const init = value as { class_name?: unknown; config?: Record<string, unknown> } | null;
    if (key.endsWith('_initializer') && init !== null && typeof init === 'object' && init.config !== undefined && 'seed' in init.config) {
      return [key, { ...init, config: { ...init.config, seed: deriveSeed(seed, 1000 + counter.next++) } }];
    }
    return [key, seedInitializers(value, seed, counter)];
  });
  return Object.fromEntries(entries);
};

/** Every initialiser in a serialised topology replaced by zeros. */
const zeroInitializers = (node: unknown): unknown => {
  if (Array.isArray(node)) return node.map(zeroInitializers);
  if (node === null || typeof node !== 'object') return node;
  const entries = Object.entries(node as Record<string, unknown>).map(([key, value]): [string, unknown] =>
    key.endsWith('_initializer') && value !== null && typeof value === 'object' ? [key, { class_name: 'Zeros', config: {} }] : [key, zeroInitializers(value)],
  );
  return Object.fromEntries(entries);
};

/**
 * `tfl.models.modelFromJSON` that frees what it made when it fails. A layer that fails to build
 * (a custom layer's `build` throwing, say) left the weights of every layer built before it
 * allocated, with no model to dispose them through. tfjs-layers builds all the layers before its
 * first `await`, so the variables registered between the call and its return are exactly this
 * model's: on failure they are disposed, and the error goes on.
 */
const fromTopology = async (modelTopology: tf.io.ModelJSON['modelTopology']): Promise<tfl.LayersModel> => {
  const registered = (): ReadonlyArray<readonly [string, tf.Variable]> => Object.entries(tf.engine().registeredVariables);
  const before = new Set(registered().map(([name]) => name));
  const pending = tfl.models.modelFromJSON({ modelTopology });
  const made = registered().filter(([name]) => !before.has(name)).map(([, v]) => v);
  try {
    return await pending;
  } catch (thrown) {
    tf.dispose([...made]);
    throw thrown;
  }
};

/**
 * A deep copy of a model: same topology, new layer objects. A pretrained start copies the weight
 * values; a random start leaves each layer with what its own initialiser drew, seeded.
 *
 * A pretrained copy is built with zeros and then given the source's values: drawing random weights
 * first, only to overwrite them, took most of the time of copying MobileNetV2 (tfjs draws a
 * truncated normal in JavaScript, ≈ 150 of ≈ 180 ms, one-off profile). The copy's layers then get
 * the source's initialisers back, so it describes (and saves) itself as the source does.
 */
const copyModel = async (source: tfl.LayersModel, start: BuildSpec['start'], seed: number): Promise<tfl.LayersModel> => {
  const topology = source.toJSON(null, false) as tf.io.ModelJSON['modelTopology'];
  if (start === 'random') return fromTopology(seedInitializers(topology, seed) as typeof topology);
  const copy = await fromTopology(zeroInitializers(topology) as typeof topology);
  copy.setWeights(source.getWeights());
  for (const layer of copy.layers) {
    const from = source.getLayer(layer.name) as unknown as Record<string, unknown>;
    const to = layer as unknown as Record<string, unknown>;
    for (const key of Object.keys(to)) if (key.endsWith('Initializer') && key in from) to[key] = from[key];
  }
  return copy;
};

/**
 * Builds a transfer model from a source: copies it (or, for a random start, its architecture with
 * fresh seeded weights), keeps the copied layers up to the tap, adds pooling and a head. The source
 * is read, never changed; on failure nothing is left allocated.
 */
export const buildTransferModel = (source: tfl.LayersModel, spec: BuildSpec): TE.TaskEither<TransferError, TfjsTransferModel> => async () => {
  let copy: tfl.LayersModel | undefined;
  const created: Layer[] = [];
  try {
    // The source may have changed since it was wrapped: a NaN weight would otherwise surface as
    // a diverged loss (cpu), or not at all where ReLU swallows it (wasm).
    const poisoned = spec.start === 'pretrained' ? nonFiniteWeight(source.layers) : undefined;
    if (poisoned !== undefined) return E.left(poisoned);
    copy = await copyModel(source, spec.start, spec.seed);
    const tapLayer = copy.getLayer(spec.tap.name);
    const graph = ancestors(copy, tapLayer);
    const kept = new Set(graph);
    copy.layers.filter((l) => !kept.has(l)).forEach(release);
    const taken = new Set(copy.layers.map((l) => l.name));
    const tapOutput = tapLayer.output as SymbolicTensor;
    const pool = poolingLayer(tapOutput, spec.pooling, freshName('transferkit_pool', taken));
    if (E.isLeft(pool)) {
      graph.forEach(release);
      return pool;
    }
    const pooled = pool.right === undefined ? tapOutput : (pool.right.apply(tapOutput) as SymbolicTensor);
    const head = headLayers(spec, taken);
    const softmax = tfl.layers.softmax({ name: freshName('transferkit_head_softmax', taken) });
    created.push(...(pool.right === undefined ? [] : [pool.right]), ...head, softmax);
    const headInput = tfl.input({ shape: pooled.shape.slice(1) as number[] });
    const headModel = tfl.model({ inputs: headInput, outputs: applyAll(head, headInput) });
    const probabilities = softmax.apply(applyAll(head, pooled)) as SymbolicTensor;
    const full = tfl.model({ inputs: copy.inputs[0]!, outputs: probabilities, name: `transferkit_${source.name}` });
    const parts: Parts = {
      input: copy.inputs[0]!,
      graph: pool.right === undefined ? graph : [...graph, pool.right],
      backbone: graph.filter((l) => l.getClassName() !== 'InputLayer'),
      tap: spec.tap.name,
      pooling: spec.pooling,
      pooled,
      head,
      headModel,
      classes: spec.classes,
      dropout: spec.head.dropout,
      batchStatistics: spec.start === 'random',
    };
    return E.right(new TfjsTransferModel(parts, full, [...graph, ...created]));
  } catch (thrown) {
    copy?.layers.forEach(release);
    created.forEach(release);
    return E.left(backendFailure('building the transfer model', thrown));
  }
};
