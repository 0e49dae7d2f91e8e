/** The messages between {@link withThreads} and its worker threads. */
import type { io } from '@tensorflow/tfjs-core';
import type { Pooling } from '../../../core/backbone';
import type { ShareRequest, TensorRef } from '../session';

/** What a worker starts from: an embedding worker, or (`training`) one that computes gradient shares. */
export interface WorkerSetup {
  /** Present for a training worker: the phase's trainable part. */
  readonly training?: TrainingSetup;
  /** The model, as `model.save` writes it (an embedding worker's). */
  readonly artifacts?: io.ModelArtifacts;
  /** The tfjs backend to use: the one the caller's thread uses ('wasm' or 'cpu'). */
  readonly backend: string;
  /** The worker's entry to load through tsx when transferkit runs from its TypeScript sources. */
  readonly source?: string;
}

/** A phase's trainable part, for a worker computing gradient shares (see session.ts). */
export interface TrainingSetup {
  readonly suffix?: io.ModelArtifacts;
  readonly head: io.ModelArtifacts;
  readonly dropout: number;
  readonly classes: number;
  /** The trainable weights' `layer/weight` keys, in the order of weights and gradients. */
  readonly trained: ReadonlyArray<string>;
  readonly rowShapes: ReadonlyArray<ReadonlyArray<number>>;
}

/** One share of a training batch, as the session asks for it, with the request's id. */
export type ComputeRequest = ShareRequest & { readonly id: number };

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
  | { readonly kind: 'prefixed'; readonly id: number; readonly rows: Float32Array[] }
  | { readonly kind: 'computed'; readonly id: number; readonly grads: Float32Array[]; readonly lossSum: number; readonly correct: number }
  | { readonly kind: 'error'; readonly id: number; readonly message: string };
