/** The messages between {@link withEmbeddingThreads} and its worker threads. */
import type { io } from '@tensorflow/tfjs-core';
import type { Pooling } from '../../../core/backbone';

/** What a worker starts from. */
export interface WorkerSetup {
  /** The model, as `model.save` writes it. */
  readonly artifacts: io.ModelArtifacts;
  /** The tfjs backend to use: the one the caller's thread uses ('wasm' or 'cpu'). */
  readonly backend: string;
  /** The worker's entry to load through tsx when transferkit runs from its TypeScript sources. */
  readonly source?: string;
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

/** A worker's answers: ready (or not) after setup, then one per request. */
export type WorkerMessage =
  | { readonly kind: 'ready' }
  | { readonly kind: 'failed'; readonly message: string }
  | { readonly kind: 'embedded'; readonly id: number; readonly rows: number; readonly cols: number; readonly data: Float32Array }
  | { readonly kind: 'error'; readonly id: number; readonly message: string };
