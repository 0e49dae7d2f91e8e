/**
 * The model interface: all the core knows of a pretrained model. A backend (e.g.
 * `transferkit/tfjs`) implements it; the strategies run over it. No tensor type appears here:
 * inputs are the backend's type parameter `X`, and what comes back is a {@link Matrix}.
 */
import { either as E, function as F, type taskEither as TE } from 'fp-ts';
import { optionsAt } from './boundary';
import { described, invalidArgument, type TransferError } from './errors';
import type { InputSpec } from './inputSpec';
import type { Matrix } from './matrix';
import type { Objective } from './objective';
import type { HeadSpec, Phase, Start, TrainablePolicy } from './recipe';
import type { RowStoreFactory } from './rowStore';
import { abortSignal, oneOf, optional, positiveInteger } from './validate';

/** One layer of a backbone, as the core sees it. */
export interface LayerInfo {
  /** The layer's name, unique in its model. */
  readonly name: string;
  /** Its position in {@link Backbone.layers} (topological order: every layer after its inputs). */
  readonly index: number;
  /** Its class, e.g. `"Conv2D"`, `"BatchNormalization"`, `"Dense"`. */
  readonly kind: string;
  /** Output shape with the batch dimension first (`null` where it varies). */
  readonly outputShape: ReadonlyArray<number | null>;
  /** Number of weights (trainable or not, BatchNorm statistics included). */
  readonly params: number;
  /** Whether the source model marks it trainable. */
  readonly trainable: boolean;
  /** Indices of the layers whose outputs it takes. */
  readonly inputs: ReadonlyArray<number>;
}

/** What a backbone can do. A frozen graph can embed but not fine-tune. */
export interface Capabilities {
  /** Whether backbone layers can be trained (otherwise only head-only recipes run). */
  readonly fineTune: boolean;
  /** What the backbone is, in words, for error messages (e.g. `"a tfjs LayersModel"`). */
  readonly description: string;
}

/** How a tap's activations become one vector per example. */
export type Pooling = 'average' | 'flatten';

/** The poolings, for the checks of every option that takes one. */
export const POOLINGS: ReadonlyArray<Pooling> = ['average', 'flatten'];

/** A pooling option: `'average'` (the default) or `'flatten'`. */
export const poolingOption = optional(oneOf(POOLINGS), 'average' as Pooling);

/** How {@link Backbone.embed} runs. */
export interface EmbedOptions {
  /** How a spatial map becomes a vector: global average, or every value flattened. */
  readonly pooling: Pooling;
  /** Examples per batch, a positive integer. */
  readonly batchSize: number;
  /** Stops the work between two batches (the result is then `Aborted`). */
  readonly signal?: AbortSignal;
}

/** What {@link Backbone.build} needs to make a trainable transfer model. */
export interface BuildSpec {
  /** The resolved tap layer. */
  readonly tap: LayerInfo;
  /** The new head's hidden layers and dropout. */
  readonly head: HeadSpec;
  /** Number of target classes (the head's outputs). */
  readonly classes: number;
  /** How the tap's activations become the head's input. */
  readonly pooling: Pooling;
  /**
   * `pretrained`: the copied layers keep the source's weights. `random`: they get fresh weights from
   * their own initialisers, seeded by `seed`, and their BatchNorm layers normalise by batch
   * statistics while they train (from-scratch training).
   */
  readonly start: Start;
  /** Seeds the head's initial weights (and, for a random start, the backbone's). */
  readonly seed: number;
  /**
   * `new` (the default): a new seeded head of `head`'s layers. `source`: the source's own
   * classifier, copied with its weights, is the head (the tap must be the layer it reads, and
   * `classes` its outputs); what domain adaptation starts from, where the task stays the source's.
   * A backend that cannot find the classifier answers `NotSupported`.
   */
  readonly classifier?: 'new' | 'source';
}

/** Which inputs a phase session evaluates: the training inputs, or the separate validation inputs. */
export type InputSet = 'train' | 'validation';

/** Arguments of {@link TransferModel.startPhase}. */
export interface PhaseArgs<X> {
  /** What trains, for how long, how fast. */
  readonly phase: Phase;
  /** Training inputs. */
  readonly inputs: X;
  /** Their class ids, one per example. */
  readonly labels: Int32Array;
  /** Optional separate validation inputs and class ids. */
  readonly validation?: {
    /** Validation inputs. */
    readonly inputs: X;
    /** Their class ids. */
    readonly labels: Int32Array;
  };
  /**
   * Unlabelled inputs (domain adaptation's target), optional: cached through the frozen part as
   * the training inputs are, and read by the objective's unlabelled terms (see
   * {@link PhaseSession.step}).
   */
  readonly unlabelled?: X;
  /** What the phase minimises beyond the cross-entropy on its labels; default: that cross-entropy alone. */
  readonly objective?: Objective;
  /** Batch size used while computing cached activations. */
  readonly batchSize: number;
  /** Seeds randomness inside steps (dropout masks). */
  readonly seed: number;
  /** Where the phase keeps cached activations (default: in memory, in chunks). */
  readonly store?: RowStoreFactory;
  /** Stops caching between two batches: the phase then fails with `Aborted`. */
  readonly signal?: AbortSignal;
  /**
   * The bytes a training step may fill with its activations; default: what the backend can give
   * (see {@link TransferModel.planPhase}). A batch that would need more runs as several passes
   * whose gradients add up (micro-batches).
   */
  readonly memoryBytes?: number;
}

/** How a phase's steps fit the backend's memory (see {@link TransferModel.planPhase}). */
export interface StepPlan {
  /** Estimated peak bytes of a training step, per example. */
  readonly bytesPerExample: number;
  /** Bytes a step may fill; `undefined` where no limit is known or given. */
  readonly budgetBytes: number | undefined;
  /** Examples per forward and backward pass: the batch size, or fewer, the batch then accumulating gradients over several passes. */
  readonly microBatch: number;
}

/** Loss summed over examples, and how many were classified right. */
export interface BatchOutcome {
  /** Cross-entropy summed over the examples (nats); not finite when training diverged (the runner decides what to do). */
  readonly lossSum: number;
  /** Examples whose most probable class is the true one. */
  readonly correct: number;
}

/**
 * One training phase in progress. The model froze what the phase does not train and may have run
 * the frozen part once per example, caching its output; steps then train only the rest.
 */
export interface PhaseSession {
  /**
   * One optimisation step on these training examples (indices into the phase's inputs). A backend
   * that spreads a step over threads answers with a promise. With an objective that has unlabelled
   * terms, `unlabelled` are the step's indices into {@link PhaseArgs.unlabelled} (or, without
   * unlabelled inputs, into the training inputs, whose labels those terms do not read).
   */
  step(indices: Int32Array, stepNumber: number, unlabelled?: Int32Array): E.Either<TransferError, BatchOutcome> | Promise<E.Either<TransferError, BatchOutcome>>;
  /**
   * Loss and correct count over these examples of a set, in inference mode (no update). A backend
   * that spreads the examples over threads answers with a promise.
   */
  evaluate(set: InputSet, indices: Int32Array): E.Either<TransferError, BatchOutcome> | Promise<E.Either<TransferError, BatchOutcome>>;
  /**
   * Remembers the values of every weight the phase trains, replacing what it remembered before.
   * The copy is the session's own (no tensor of the caller's), freed with it.
   */
  checkpoint(): E.Either<TransferError, void>;
  /**
   * Puts back the weights of the last {@link PhaseSession.checkpoint} and, with `learningRate`,
   * goes on at that rate with a fresh optimizer state (moments that carried a blow-up would
   * carry it on). An error when nothing was checkpointed.
   */
  restore(learningRate?: number): E.Either<TransferError, void>;
  /**
   * Called once the phase's steps are done (not after an error), with its training examples: a
   * session that trained on batch statistics (from random weights) re-estimates the statistics
   * inference uses. Optional; answers how many normalisation layers it re-estimated.
   */
  finish?(train: Int32Array): E.Either<TransferError, number>;
  /** Time spent computing cached activations, in ms. */
  readonly cacheMs: number;
  /** How many threads computed them: 1 for the caller's thread alone, 0 when nothing was run. */
  readonly cacheThreads: number;
  /** How many threads share each step (the caller's included). */
  readonly trainThreads: number;
  /** Examples per forward and backward pass (optional; a backend that never splits a batch leaves it out). */
  readonly microBatch?: number;
  /** Frees the cache and the optimizer. The model keeps what the phase trained. */
  dispose(): void;
}

/** A trainable model built from a backbone: a copy of its layers up to the tap, plus a new head. */
export interface TransferModel<X> {
  /** Freezes all that `args.phase` does not train and prepares its steps. */
  startPhase(args: PhaseArgs<X>): TE.TaskEither<TransferError, PhaseSession>;
  /**
   * Optional: how the steps of `phase` at `batchSize` would fit the backend's memory (or
   * `memoryBytes`), without training anything; an error when not even one example fits. The
   * runner asks this of every phase before the first trains.
   */
  planPhase?(phase: Phase, batchSize: number, memoryBytes?: number): E.Either<TransferError, StepPlan>;
  /**
   * Optional: sets the moving statistics of every BatchNorm layer of the model to the mean and
   * variance of its inputs over `inputs`, with each BatchNorm normalising by its batch's own
   * statistics on the way (AdaBN: Li et al., "Revisiting Batch Normalization for Practical Domain
   * Adaptation", 2016). Answers how many layers it set (0 for a model without BatchNorm). Only the
   * statistics change.
   */
  renormalize?(inputs: X, options: { readonly batchSize: number; readonly signal?: AbortSignal }): TE.TaskEither<TransferError, number>;
  /**
   * Optional: folds an affine map of the head's input into the head's first layer, so the head
   * reads x·A + c where it read x (`map` is A, features × features; `shift` is c, one value per
   * feature). What CORAL's closed form does to a classifier.
   */
  mapHeadInput?(map: Matrix, shift: Float32Array): E.Either<TransferError, void>;
  /** Class probabilities, one row per example; `options.batchSize` unset, the backend picks the batch. */
  predict(inputs: X, options?: { readonly batchSize?: number }): TE.TaskEither<TransferError, Matrix>;
  /** Whether {@link TransferModel.dispose} was called. */
  readonly isDisposed: boolean;
  /** Frees everything the model owns. Never touches the source. */
  dispose(): void;
}

/**
 * A pretrained model seen through the core: its layers, embeddings at any layer, and a way to
 * build a trainable transfer model that never touches the source.
 *
 * @typeParam X - the backend's input type (for tfjs, a `Tensor`)
 * @typeParam M - the backend's transfer model, with its own extras (export, weights)
 */
export interface Backbone<X, M extends TransferModel<X>> {
  /** Every layer, in topological order. */
  readonly layers: ReadonlyArray<LayerInfo>;
  /** Index of the top feature layer: the last layer before the source's classifier. */
  readonly top: number;
  /** What the backbone supports: embedding always; fine-tuning unless it is a frozen graph. */
  readonly capabilities: Capabilities;
  /** Checks inputs against the model (shape, dtype, finite values) and counts the examples. */
  count(inputs: X): E.Either<TransferError, number>;
  /**
   * Activations at a layer for a batch of inputs, pooled to one row per example, `batchSize` (a
   * positive integer) at a time; `signal` stops it between two batches with `Aborted`.
   */
  embed(inputs: X, at: LayerInfo, options: EmbedOptions): TE.TaskEither<TransferError, Matrix>;
  /**
   * {@link Backbone.embed} at several layers in one pass over the inputs, a matrix per layer in
   * their order. Optional: without it, the metrics and the runner embed one layer at a time.
   */
  embedEach?(inputs: X, at: ReadonlyArray<LayerInfo>, options: EmbedOptions): TE.TaskEither<TransferError, ReadonlyArray<Matrix>>;
  /** A new trainable model: a copy of the layers up to `spec.tap` (or of their architecture, for a random start) and a new head. */
  build(spec: BuildSpec): TE.TaskEither<TransferError, M>;
  /** Whether the source model is still usable (not disposed). */
  readonly isUsable: () => boolean;
  /**
   * Optional: a sentence when inputs that passed {@link Backbone.count} look unlike what the
   * model expects (values outside its declared range, say); `transfer` reports it in the result's
   * `warnings`.
   */
  readonly inputWarning?: (inputs: X) => string | undefined;
  /**
   * Optional: the backbone's input as an image (size, channels, how pixels become inputs), where
   * the model says it or its user declared it; what turns images into input batches reads it.
   */
  readonly inputSpec?: InputSpec;
}

/**
 * Checks that a value is a {@link Backbone} as the runner needs one: its layers, a top index among
 * them, capabilities, and the four functions. A backbone made by a backend passes; a value from
 * elsewhere (or a disposed model's) gets an error at `path`.
 */
export const checkBackbone = <X, M extends TransferModel<X>>(path: string, value: Backbone<X, M>): E.Either<TransferError, Backbone<X, M>> => {
  const expected = 'a backbone (e.g. from fromLayersModel of transferkit/tfjs)';
  if (typeof value !== 'object' || value === null) return E.left(invalidArgument(path, expected, value));
  const { layers, top, capabilities } = value;
  const functions = ['count', 'embed', 'build', 'isUsable'] as const;
  if (!Array.isArray(layers) || !Number.isInteger(top) || layers[top] === undefined || typeof capabilities !== 'object' || capabilities === null || functions.some((f) => typeof value[f] !== 'function')) {
    return E.left(invalidArgument(path, `${expected}: layers, a top index among them, capabilities, and ${functions.join(', ')}`, value));
  }
  if (value.isUsable() !== true) return E.left(invalidArgument(path, 'a usable model', described('a disposed model')));
  return E.right(value);
};

/**
 * Checks the embedding options every backbone reader takes (embed, the metrics), `options` itself included (defaults:
 * average pooling, batches of 256, no signal).
 */
export const checkEmbedOptions = (options: unknown): E.Either<TransferError, EmbedOptions> =>
  F.pipe(
    optionsAt('options', options as { readonly pooling?: unknown; readonly batchSize?: unknown; readonly signal?: unknown } | undefined),
    E.chain((o) =>
      F.pipe(
        E.Do,
        E.bind('pooling', () => poolingOption('options.pooling', o.pooling)),
        E.bind('batchSize', () => optional(positiveInteger, 256)('options.batchSize', o.batchSize)),
        E.bind('signal', () => optional(abortSignal, undefined)('options.signal', o.signal)),
        E.map(({ pooling, batchSize, signal }): EmbedOptions => ({ pooling, batchSize, ...(signal === undefined ? {} : { signal }) })),
      ),
    ),
  );

/**
 * Pooled activations at each of `layers`: in one pass when the backbone has
 * {@link Backbone.embedEach}, else one {@link Backbone.embed} per layer.
 */
export const embedLayers = async <X, M extends TransferModel<X>>(
  backbone: Backbone<X, M>,
  inputs: X,
  layers: ReadonlyArray<LayerInfo>,
  options: EmbedOptions,
): Promise<E.Either<TransferError, ReadonlyArray<Matrix>>> => {
  if (typeof backbone.embedEach === 'function') {
    const each = await backbone.embedEach(inputs, layers, options)();
    if (E.isLeft(each)) return each;
    if (!Array.isArray(each.right) || each.right.length !== layers.length) {
      return E.left(invalidArgument('backbone.embedEach', `one matrix per layer (${layers.length})`, each.right));
    }
    return each;
  }
  const out: Matrix[] = [];
  for (const layer of layers) {
    const m = await backbone.embed(inputs, layer, options)();
    if (E.isLeft(m)) return m;
    out.push(m.right);
  }
  return E.right(out);
};
