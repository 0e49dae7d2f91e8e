/**
 * A worker thread of `withEmbeddingThreads`: loads its own copy of the model on its own tfjs
 * backend, then embeds the chunks of rows it is sent, with the same compiled path as the caller's
 * thread would (`fromLayersModel(...).embed`).
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { either as E } from 'fp-ts';
import { fromLayersModel, type TfjsBackbone } from '../fromLayersModel';
import { setupBackend } from '../setup';
import type { EmbedRequest, WorkerMessage, WorkerSetup } from './protocol';

const BACKEND_PACKAGES: Record<string, string> = { wasm: '@tensorflow/tfjs-backend-wasm', cpu: '@tensorflow/tfjs-backend-cpu' };

const post = (message: WorkerMessage, transfer: ArrayBuffer[] = []): void => parentPort!.postMessage(message, transfer);

const start = async (setup: WorkerSetup): Promise<TfjsBackbone> => {
  const specifier = BACKEND_PACKAGES[setup.backend];
  if (specifier === undefined) throw new Error(`no worker support for the '${setup.backend}' backend`);
  await import(/* @vite-ignore */ specifier);
  const chosen = await setupBackend({ prefer: [setup.backend], kernels: false })();
  if (E.isLeft(chosen)) throw new Error(chosen.left.message);
  const model = await tfl.loadLayersModel(tf.io.fromMemory(setup.artifacts));
  const backbone = fromLayersModel(model);
  if (E.isLeft(backbone)) throw new Error(backbone.left.message);
  return backbone.right;
};

const embed = async (backbone: TfjsBackbone, request: EmbedRequest): Promise<void> => {
  const at = backbone.layers.find((l) => l.name === request.layer);
  if (at === undefined) {
    post({ kind: 'error', id: request.id, message: `no layer '${request.layer}' in the worker's model` });
    return;
  }
  const x = tf.tensor(request.data, request.shape, request.dtype);
  try {
    const out = await backbone.embed(x, at, { pooling: request.pooling, batchSize: request.batchSize })();
    if (E.isLeft(out)) post({ kind: 'error', id: request.id, message: out.left.message });
    else {
      const data = Float32Array.from(out.right.data);
      post({ kind: 'embedded', id: request.id, rows: out.right.rows, cols: out.right.cols, data }, [data.buffer]);
    }
  } finally {
    x.dispose();
  }
};

const run = async (): Promise<void> => {
  let backbone: TfjsBackbone;
  try {
    backbone = await start(workerData as WorkerSetup);
  } catch (thrown) {
    post({ kind: 'failed', message: (thrown as Error).message });
    return;
  }
  parentPort!.on('message', (request: EmbedRequest) => {
    embed(backbone, request).catch((thrown: unknown) => post({ kind: 'error', id: request.id, message: (thrown as Error).message }));
  });
  post({ kind: 'ready' });
};

if (parentPort !== null) void run();
