/**
 * A worker thread of `withThreads`, on its own tfjs backend. An embedding worker loads its own copy
 * of the model and embeds the chunks of rows it is sent, with the same compiled path as the
 * caller's thread would (`fromLayersModel(...).embed`). A training worker (one per phase) loads a
 * copy of the phase's trainable part and answers each share of a batch with its gradients, at the
 * weights the caller sends with it (session.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { either as E } from 'fp-ts';
import { fromLayersModel, type TfjsBackbone } from '../fromLayersModel';
import { partLoss, weightKey } from '../session';
import { setupBackend } from '../setup';
import type { ComputeRequest, EmbedRequest, TrainingSetup, WorkerMessage, WorkerSetup } from './protocol';

const BACKEND_PACKAGES: Record<string, string> = { wasm: '@tensorflow/tfjs-backend-wasm', cpu: '@tensorflow/tfjs-backend-cpu' };

const post = (message: WorkerMessage, transfer: ArrayBuffer[] = []): void => parentPort!.postMessage(message, transfer);

/** The caller's backend, with transferkit's kernel pack when this worker trains. */
const useBackend = async (setup: WorkerSetup): Promise<void> => {
  const specifier = BACKEND_PACKAGES[setup.backend];
  if (specifier === undefined) throw new Error(`no worker support for the '${setup.backend}' backend`);
  await import(/* @vite-ignore */ specifier);
  const chosen = await setupBackend({ prefer: [setup.backend], kernels: setup.training !== undefined })();
  if (E.isLeft(chosen)) throw new Error(chosen.left.message);
};

const start = async (setup: WorkerSetup): Promise<TfjsBackbone> => {
  await useBackend(setup);
  const model = await tfl.loadLayersModel(tf.io.fromMemory(setup.artifacts!));
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

/** A phase's trainable part, loaded, with its trainable variables in the caller's order. */
interface Trainer {
  readonly suffix: tfl.LayersModel | undefined;
  readonly head: tfl.LayersModel;
  readonly variables: tf.Variable[];
  readonly setup: TrainingSetup;
}

const startTrainer = async (setup: WorkerSetup): Promise<Trainer> => {
  await useBackend(setup);
  const training = setup.training!;
  const suffix = training.suffix === undefined ? undefined : await tfl.loadLayersModel(tf.io.fromMemory(training.suffix));
  const head = await tfl.loadLayersModel(tf.io.fromMemory(training.head));
  const byKey = new Map<string, tf.Variable>();
  for (const model of [suffix, head]) model?.layers.forEach((l) => l.weights.forEach((w) => byKey.set(weightKey(l.name, w.originalName), w.read() as tf.Variable)));
  const variables = training.trained.map((key) => {
    const v = byKey.get(key);
    if (v === undefined) throw new Error(`the worker's copy has no weight '${key}'`);
    return v;
  });
  return { suffix, head, variables, setup: training };
};

/** The gradient of scale × the mean cross-entropy over the request's rows, at the caller's weights. */
const compute = (trainer: Trainer, request: ComputeRequest): void => {
  trainer.variables.forEach((v, i) => {
    const value = tf.tensor(request.weights[i]!, v.shape);
    v.assign(value);
    value.dispose();
  });
  let lossSum = Number.NaN;
  let correct = 0;
  // Read out inside, not returned: tidy walks what it returns element by element looking for
  // tensors, which for arrays of a few hundred thousand numbers took longer than the step.
  let grads: Float32Array[] = [];
  tf.tidy(() => {
    const xs = request.rows.map((r, k) => tf.tensor(r, [request.count, ...trainer.setup.rowShapes[k]!]));
    const y = tf.tensor1d(request.labels, 'int32');
    const { grads: g } = tf.variableGrads(
      () =>
        partLoss({ ...trainer.setup, suffix: trainer.suffix, head: trainer.head }, xs, y, request.seed, request.scale, (l, c) => {
          lossSum = l;
          correct = c;
        }),
      trainer.variables,
    );
    grads = trainer.variables.map((v) => Float32Array.from(g[v.name]!.dataSync()));
  });
  post({ kind: 'computed', id: request.id, grads, lossSum, correct }, grads.map((x) => x.buffer as ArrayBuffer));
};

const train = async (setup: WorkerSetup): Promise<void> => {
  let trainer: Trainer;
  try {
    trainer = await startTrainer(setup);
  } catch (thrown) {
    post({ kind: 'failed', message: (thrown as Error).message });
    return;
  }
  parentPort!.on('message', (request: ComputeRequest) => {
    try {
      compute(trainer, request);
    } catch (thrown) {
      post({ kind: 'error', id: request.id, message: (thrown as Error).message });
    }
  });
  post({ kind: 'ready' });
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

if (parentPort !== null) void ((workerData as WorkerSetup).training === undefined ? run() : train(workerData as WorkerSetup));
