/** The messages between {@link withThreads} and its worker threads. */
import type { io } from '@tensorflow/tfjs-core';
import type { Pooling } from '../../../core/backbone';
import type { EvaluationRequest, ShareRequest, TensorRef } from '../session/contracts';

/** What a worker starts from. */
export interface WorkerSetup {
  /** The model, as `model.save` writes it. */
  readonly artifacts: io.ModelArtifacts;
  /** The tfjs backend to use: the one the caller's thread uses ('wasm' or 'cpu'). */
  readonly backend: string;
  /** The worker's entry to load through tsx when transferkit runs from its TypeScript sources. */
  readonly source?: string;
  /** Modules the worker imports before it loads the model: they register the model's custom layers. */
  readonly modules?: ReadonlyArray<string>;
}

/** A phase's trainable part, for a worker computing gradient shares (see session/contracts.ts). */
export interface TrainingSetup {
  readonly suffix?: io.ModelArtifacts;
  readonly head: io.ModelArtifacts;
  readonly dropout: number;
  readonly classes: number;
  /** The trainable weights' `layer/weight` keys, in the order of weights and gradients. */
  readonly trained: ReadonlyArray<string>;
  readonly rowShapes: ReadonlyArray<ReadonlyArray<number>>;
  /** The most rows one forward and backward pass may hold (see session/contracts.ts). */
  readonly microBatch: number;
}

/** Frees the prefix compiled for caching (a phase's caching is over). */
export interface PrefixDoneRequest {
  readonly kind: 'prefix-done';
  readonly id: number;
}

/** Asks how many tensors the worker holds. */
export interface MemoryRequest {
  readonly kind: 'memory';
  readonly id: number;
}

/** Starts computing gradient shares for a phase (numbered by the caller). */
export interface TrainRequest {
  readonly kind: 'train';
  readonly id: number;
  readonly phase: number;
  readonly setup: TrainingSetup;
}

/** One share of a training batch, as the session asks for it, with the request's id and phase. */
export type ComputeRequest = ShareRequest & { readonly kind: 'compute'; readonly id: number; readonly phase: number };

/** Part of a batch to evaluate, as the session asks for it, with the request's id and phase. */
export type EvaluateRequest = EvaluationRequest & { readonly kind: 'evaluate'; readonly id: number; readonly phase: number };

/** Ends a phase: the worker frees its copy of the trainable part. */
export interface EndTrainRequest {
  readonly kind: 'end-train';
  readonly id: number;
  readonly phase: number;
}

/** One chunk of rows to embed. */
export interface EmbedRequest {
  readonly id: number;
  readonly data: Float32Array;
  readonly shape: number[];
  readonly dtype: 'float32' | 'int32';
  readonly layer: string;
  readonly pooling: Pooling;
  readonly batchSize: number;
}

/** One chunk of rows to run a frozen prefix on (an embedding worker holds the source's weights). */
export interface PrefixRequest {
  readonly kind: 'prefix';
  readonly id: number;
  readonly data: Float32Array;
  readonly shape: number[];
  readonly outputs: ReadonlyArray<TensorRef>;
  readonly batchSize: number;
}

/** A worker's answers: ready (or not) after setup, then one per request. */
export type WorkerMessage =
  | { readonly kind: 'ready' }
  | { readonly kind: 'failed'; readonly message: string }
  | { readonly kind: 'embedded'; readonly id: number; readonly rows: number; readonly cols: number; readonly data: Float32Array }
  | { readonly kind: 'prefixed'; readonly id: number; readonly rows: Float32Array[]; readonly data: Float32Array }
  | { readonly kind: 'training'; readonly id: number }
  | { readonly kind: 'memory'; readonly id: number; readonly tensors: number }
  | { readonly kind: 'ended'; readonly id: number }
  | { readonly kind: 'computed'; readonly id: number; readonly grads: Float32Array[]; readonly lossSum: number; readonly correct: number }
  | { readonly kind: 'evaluated'; readonly id: number; readonly lossSum: number; readonly correct: number; readonly weights?: Float32Array[] }
  | { readonly kind: 'error'; readonly id: number; readonly message: string };
