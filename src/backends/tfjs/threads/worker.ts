/**
 * A worker thread of `withThreads`, on its own tfjs backend. It loads its own copy of the model and
 * embeds the chunks of rows it is sent, with the same compiled path as the caller's thread would
 * (`fromLayersModel(...).embed`), or runs a phase's frozen prefix on them. For each training phase
 * the caller sends it a copy of the phase's trainable part; it then answers each share of a batch
 * with its gradients, at the weights the caller sends with it (sharedStep.ts), and each part of a
 * batch to evaluate with its loss and correct count (sharedEvaluation.ts), until the phase ends.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { either as E } from 'fp-ts';
import { deriveSeed } from '../../../core/random';
import { compilePrefix, forEachBatch, type CompiledPrefix } from '../compile';
import { inputRows } from '../inputRows';
import type { TfjsBackbone } from '../backbone';
import { fromLayersModel } from '../layersModel/fromLayersModel';
import { release, type SymbolicTensor } from '../graph';
import type { TensorRef } from '../session/contracts';
import { accumulatePasses, countCorrect, crossEntropy, forwardPass, MICRO_BATCH_SEEDS, partLoss, readInto, sumPasses, tensorOf, variableGradsOrThrow, weightKey } from '../session/steps';
import { setupBackend } from '../setup';
import { registerTransferKernels } from '../kernels/register';
import type { ComputeRequest, EmbedRequest, EvaluateRequest, EndTrainRequest, MemoryRequest, PrefixDoneRequest, PrefixRequest, TrainingSetup, TrainRequest, WorkerMessage, WorkerSetup } from './protocol';

const BACKEND_PACKAGES: Record<string, string> = { wasm: '@tensorflow/tfjs-backend-wasm', cpu: '@tensorflow/tfjs-backend-cpu' };

const post = (message: WorkerMessage, transfer: ArrayBuffer[] = []): void => parentPort!.postMessage(message, transfer);

/** The caller's backend (the kernel pack comes with the first phase this worker trains). */
const useBackend = async (setup: WorkerSetup): Promise<void> => {
  const specifier = BACKEND_PACKAGES[setup.backend];
  if (specifier === undefined) throw new Error(`no worker support for the '${setup.backend}' backend`);
  await import(/* @vite-ignore */ specifier);
  const chosen = await setupBackend({ prefer: [setup.backend], kernels: false })();
  if (E.isLeft(chosen)) throw new Error(chosen.left.message);
};

const start = async (setup: WorkerSetup): Promise<{ model: tfl.LayersModel; backbone: TfjsBackbone }> => {
  await useBackend(setup);
  // Custom layer classes are registered per thread: the caller's modules register them here too.
  for (const specifier of setup.modules ?? []) await import(/* @vite-ignore */ specifier);
  const model = await tfl.loadLayersModel(tf.io.fromMemory(setup.artifacts!));
  const backbone = fromLayersModel(model);
  if (E.isLeft(backbone)) throw new Error(backbone.left.message);
  return { model, backbone: backbone.right };
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

/** Fresh pooling layers of the classes a transfer model pools with. */
const POOLS: Record<string, () => tfl.layers.Layer> = {
  GlobalAveragePooling2D: () => tfl.layers.globalAveragePooling2d({}),
  GlobalAveragePooling1D: () => tfl.layers.globalAveragePooling1d({}),
  Flatten: () => tfl.layers.flatten(),
};

/** The last prefix compiled, kept while requests ask for the same outputs (a phase's caching). */
let compiled: { key: string; prefix: CompiledPrefix; pools: ReadonlyArray<tfl.layers.Layer | undefined> } | undefined;

const releasePrefix = (): void => {
  compiled?.prefix.dispose();
  compiled?.pools.forEach((p) => p && release(p));
  compiled = undefined;
};

const prefixFor = (model: tfl.LayersModel, outputs: ReadonlyArray<TensorRef>): NonNullable<typeof compiled> => {
  const key = JSON.stringify(outputs);
  if (compiled?.key === key) return compiled;
  releasePrefix();
  const tensors = outputs.map((ref) => {
    const t = model.getLayer(ref.layer).inboundNodes[0]?.outputTensors[ref.index];
    if (t === undefined) throw new Error(`the worker's model has no output ${ref.index} of layer '${ref.layer}'`);
    return t as SymbolicTensor;
  });
  const pools = outputs.map((ref) => {
    if (ref.pool === undefined) return undefined;
    const make = POOLS[ref.pool];
    if (make === undefined) throw new Error(`no pooling layer '${ref.pool}' in the worker`);
    return make();
  });
  compiled = { key, prefix: compilePrefix(model.inputs[0]!, tensors), pools };
  return compiled;
};

/**
 * The prefix's outputs (pooled where asked) for the request's rows, one array per output, read
 * straight into them; the request's input array goes back with them, for the caller's next batch.
 */
const runPrefix = (model: tfl.LayersModel, request: PrefixRequest): void => {
  const { prefix, pools } = prefixFor(model, request.outputs);
  const count = request.shape[0]!;
  const rows: Float32Array[] = [];
  const x = tensorOf(request.data, request.shape);
  try {
    let done = 0;
    forEachBatch(prefix, inputRows(x), request.batchSize, (outs) => {
      const n = outs[0]!.shape[0]!;
      outs.forEach((o, k) => {
        const pool = pools[k];
        const pooled = pool === undefined ? o : (pool.apply(o, { training: false }) as tf.Tensor);
        try {
          const per = pooled.size / n;
          rows[k] ??= new Float32Array(count * per);
          readInto(pooled, rows[k]!.subarray(done * per, (done + n) * per));
        } finally {
          if (pooled !== o) pooled.dispose();
        }
      });
      done += n;
    });
  } finally {
    x.dispose();
  }
  post({ kind: 'prefixed', id: request.id, rows, data: request.data }, [...rows.map((r) => r.buffer as ArrayBuffer), request.data.buffer as ArrayBuffer]);
};

/** A phase's trainable part, loaded, with its trainable variables in the caller's order. */
interface Trainer {
  readonly suffix: tfl.LayersModel | undefined;
  readonly head: tfl.LayersModel;
  readonly variables: tf.Variable[];
  readonly setup: TrainingSetup;
}

/** The phases this worker computes gradient shares for, by the caller's phase number. */
const trainers = new Map<number, Trainer>();
let packRegistered = false;

const startTrainer = async (backend: string, training: TrainingSetup): Promise<Trainer> => {
  // Training needs the pack (wasm has no convolution gradients of its own); embedding did not.
  if (!packRegistered) {
    const pack = registerTransferKernels(backend);
    if (E.isLeft(pack) && pack.left._tag !== 'NotSupported') throw new Error(pack.left.message);
    packRegistered = true;
  }
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

const endTrainer = (phase: number): void => {
  const trainer = trainers.get(phase);
  trainers.delete(phase);
  trainer?.suffix?.dispose();
  trainer?.head.dispose();
};

/** Sets the trainer's variables to the caller's weights (copies: the arrays go back to it). */
const assignWeights = (trainer: Trainer, weights: ReadonlyArray<Float32Array>): void =>
  trainer.variables.forEach((v, i) => {
    const value = tensorOf(weights[i]!, v.shape);
    v.assign(value);
    value.dispose();
  });

/** Rows `start` to `end` of a request's cached inputs, as tensors. */
const rowsOf = (trainer: Trainer, rows: ReadonlyArray<Float32Array>, start: number, end: number): tf.Tensor[] =>
  rows.map((r, k) => {
    const shape = trainer.setup.rowShapes[k]!;
    const size = shape.reduce((n, d) => n * d, 1);
    return tf.tensor(r.subarray(start * size, end * size), [end - start, ...shape]);
  });

/**
 * The gradient of scale × the mean cross-entropy over the request's rows, at the caller's
 * weights, in passes of at most the phase's micro-batch whose gradients add up (steps.ts).
 */
const compute = (trainer: Trainer, request: ComputeRequest): void => {
  assignWeights(trainer, request.weights);
  const part = { ...trainer.setup, suffix: trainer.suffix, head: trainer.head };
  const total = accumulatePasses(request.count, trainer.setup.microBatch, (start, end, k) => {
    let lossSum = Number.NaN;
    let correct = 0;
    const grads = tf.tidy(() => {
      const xs = rowsOf(trainer, request.rows, start, end);
      const y = tf.tensor1d(request.labels.subarray(start, end), 'int32');
      const seed = k === 0 ? request.seed : deriveSeed(request.seed, MICRO_BATCH_SEEDS + k);
      const report = (l: number, c: number): void => {
        lossSum = l;
        correct = c;
      };
      return variableGradsOrThrow(() => partLoss(part, xs, y, seed, (request.scale * (end - start)) / request.count, report), trainer.variables).grads;
    });
    return { grads, lossSum, correct };
  });
  // Into the arrays the weights came in (they are this thread's now): the caller sends them back
  // with the next weights, so no new arrays are made step after step. Read out here, not returned
  // from a tidy: tidy walks what it returns element by element looking for tensors, which for
  // arrays of a few hundred thousand numbers took longer than the step.
  let grads: Float32Array[];
  try {
    grads = trainer.variables.map((v, i) => readInto(total.grads[v.name]!, request.weights[i]!));
  } finally {
    tf.dispose(Object.values(total.grads));
  }
  post({ kind: 'computed', id: request.id, grads, lossSum: total.lossSum, correct: total.correct }, grads.map((x) => x.buffer as ArrayBuffer));
};

/**
 * The summed cross-entropy and correct count over the request's rows in inference mode, at the
 * weights it brings or, without any, at the last ones sent (the session knows which it sent).
 */
const evaluate = (trainer: Trainer, request: EvaluateRequest): void => {
  if (request.weights !== undefined) assignWeights(trainer, request.weights);
  const { lossSum, correct } = sumPasses(request.count, trainer.setup.microBatch, (start, end) =>
    tf.tidy(() => {
      const xs = rowsOf(trainer, request.rows, start, end);
      const y = tf.tensor1d(request.labels.subarray(start, end), 'int32');
      const logits = forwardPass(trainer.suffix, trainer.head, trainer.setup.dropout, xs, false, 0);
      return { lossSum: crossEntropy(logits, y, trainer.setup.classes).dataSync()[0]! * (end - start), correct: countCorrect(logits, y) };
    }),
  );
  const weights = request.weights === undefined ? undefined : [...request.weights];
  post({ kind: 'evaluated', id: request.id, lossSum, correct, ...(weights === undefined ? {} : { weights }) }, (weights ?? []).map((x) => x.buffer as ArrayBuffer));
};

type Request = EmbedRequest | PrefixRequest | PrefixDoneRequest | MemoryRequest | TrainRequest | ComputeRequest | EvaluateRequest | EndTrainRequest;

const run = async (): Promise<void> => {
  const setup = workerData as WorkerSetup;
  let started: Awaited<ReturnType<typeof start>>;
  try {
    started = await start(setup);
  } catch (thrown) {
    post({ kind: 'failed', message: (thrown as Error).message });
    return;
  }
  parentPort!.on('message', (request: Request) => {
    const fail = (thrown: unknown): void => post({ kind: 'error', id: request.id, message: (thrown as Error).message });
    try {
      if (!('kind' in request)) {
        embed(started.backbone, request).catch(fail);
      } else if (request.kind === 'prefix') {
        runPrefix(started.model, request);
      } else if (request.kind === 'prefix-done') {
        releasePrefix();
        post({ kind: 'ended', id: request.id });
      } else if (request.kind === 'memory') {
        post({ kind: 'memory', id: request.id, tensors: tf.memory().numTensors });
      } else if (request.kind === 'train') {
        startTrainer(setup.backend, request.setup).then((trainer) => {
          trainers.set(request.phase, trainer);
          post({ kind: 'training', id: request.id });
        }, fail);
      } else if (request.kind === 'compute' || request.kind === 'evaluate') {
        const trainer = trainers.get(request.phase);
        if (trainer === undefined) throw new Error(`no phase ${request.phase} on this worker`);
        if (request.kind === 'compute') compute(trainer, request);
        else evaluate(trainer, request);
      } else {
        endTrainer(request.phase);
        post({ kind: 'ended', id: request.id });
      }
    } catch (thrown) {
      fail(thrown);
    }
  });
  post({ kind: 'ready' });
};

if (parentPort !== null) void run();
