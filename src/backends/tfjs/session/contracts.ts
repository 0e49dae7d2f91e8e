/**
 * What a phase session lets other threads do for it, as transferkit/tfjs/threads does: compute
 * part of each step's batch (gradient shares) and of each batch it evaluates, and cache the frozen
 * prefix. The session knows only
 * these contracts; the code that splits the work lives with the threads, so an app that never
 * imports them does not bundle it.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { either as E } from 'fp-ts';
import type { BatchOutcome, InputSet } from '../../../core/backbone';
import type { TransferError } from '../../../core/errors';
import type { RowStoreFactory } from '../../../core/rowStore';
import type { Layer, SymbolicTensor } from '../graph';
import type { InputRows } from '../inputRows';
import type { Cached } from './caching';
import type { Parts } from './parts';

/**
 * Part of each training batch computed elsewhere — another thread — on a copy of the trainable
 * models: the gradient of `scale` × the mean cross-entropy over its rows. `compute` must return
 * at once and settle later. The session adds the shares' gradients to its own (the batch's mean
 * cross-entropy is the scale-weighted sum of the parts' means) and applies them once. The same
 * copy evaluates part of each batch the phase evaluates (validation, the runner's probes):
 * `evaluate`, at the weights it was last sent.
 */
export interface GradientShare {
  compute(request: ShareRequest): Promise<ShareResult>;
  evaluate(request: EvaluationRequest): Promise<EvaluationResult>;
  dispose(): void;
}

/**
 * Part of a batch to evaluate in inference mode. Its arrays are the share's own, as a
 * {@link ShareRequest}'s are.
 */
export interface EvaluationRequest {
  /**
   * The trainable weights' current values, in {@link ShareSpec.trained} order, when they changed
   * since the share was last sent weights; absent, the share evaluates at those.
   */
  readonly weights?: ReadonlyArray<Float32Array>;
  /** The rows, one array per cached input (row-major, `count` rows). */
  readonly rows: ReadonlyArray<Float32Array>;
  readonly count: number;
  readonly labels: Int32Array;
}

export interface EvaluationResult {
  /** Cross-entropy summed over the rows, and how many the model classified right. */
  readonly lossSum: number;
  readonly correct: number;
  /** The request's weight arrays, given back to carry the next weights (absent when none came). */
  readonly weights?: ReadonlyArray<Float32Array>;
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
  /** The most rows one forward and backward pass may hold: a request with more runs in passes whose gradients add up. */
  readonly microBatch: number;
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

/** Caches crossing tensors elsewhere: their rows for inputs `x`, in input order, in stores from `store`. */
export type RemoteCache = (x: InputRows, batchSize: number, store: RowStoreFactory, signal: AbortSignal | undefined) => Promise<Cached[]>;

/** Caching a phase's frozen prefix on other threads that hold the source's weights. */
export interface PrefixCaching {
  /** How many threads there are (0 once they have stopped); read once per phase. */
  readonly count: number;
  /**
   * A way to cache these crossing tensors on `count` threads, or undefined where the threads
   * cannot compute them (e.g. a crossing tensor is the model's input).
   */
  plan(parts: Parts, crossing: ReadonlyArray<SymbolicTensor>, count: number): RemoteCache | undefined;
  /** The phase's caching is over: the threads free what they compiled for it. */
  done(): Promise<void>;
}

/** Where a phase may cache its frozen prefix besides this thread. */
export interface RemotePrefix {
  readonly caching: PrefixCaching;
  /** Layers whose weights may differ from the source's (trained in an earlier phase). */
  readonly changed: ReadonlySet<Layer>;
}

/** A set's cached rows and their class ids. */
export interface CachedSet {
  readonly rows: ReadonlyArray<Cached>;
  readonly labels: Int32Array;
}

/** What a shared step or evaluation needs of the session it runs in. */
export interface SessionInternals {
  /** The variables that train, in {@link ShareSpec.trained} order. */
  readonly variables: ReadonlyArray<tf.Variable>;
  /** The cached training rows and their class ids. */
  readonly train: CachedSet;
  /** The cached rows of a set (the validation set only when the phase has one). */
  readonly sets: Readonly<Record<InputSet, CachedSet | undefined>>;
  /** The phase's seed. */
  readonly seed: number;
  /** Per share, the arrays it returned with its last gradients, to carry its next weights. */
  readonly spare: Array<ReadonlyArray<Float32Array> | undefined>;
  /**
   * How many times the trained weights have changed (updates and restores): per share, the count
   * at which it was last sent them is in `sent`, undefined when unknown (after a failure).
   */
  readonly changes: () => number;
  readonly sent: Array<number | undefined>;
  /** This thread's part of a batch to evaluate: its summed loss and correct count, in inference mode. */
  ownOutcome(set: InputSet, indices: Int32Array): BatchOutcome;
  /**
   * This thread's part of a batch: the gradients of `scale` × its mean loss (plus the L2 penalty,
   * once per step), with its summed loss and correct count; computed in passes of at most the
   * session's micro-batch, whose gradients add up.
   */
  ownGradients(indices: Int32Array, seed: number, scale: number): { readonly grads: tf.NamedTensorMap; readonly lossSum: number; readonly correct: number };
  /** Applies summed gradients with the phase's optimizer. */
  apply(grads: tf.NamedTensorMap): void;
}

/** Splitting each training step's batch with other threads. */
export interface GradientSharing {
  /** Makes a phase's shares (one per other thread), or none. */
  readonly make: GradientShareFactory;
  /** One step with the batch split between this thread and the shares. */
  readonly step: (session: SessionInternals, shares: ReadonlyArray<GradientShare>, indices: Int32Array, stepNumber: number) => Promise<E.Either<TransferError, BatchOutcome>>;
  /** One batch evaluated with its examples split between this thread and the shares. */
  readonly evaluate: (session: SessionInternals, shares: ReadonlyArray<GradientShare>, set: InputSet, indices: Int32Array) => Promise<E.Either<TransferError, BatchOutcome>>;
}
