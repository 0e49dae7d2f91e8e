/**
 * transferkit/tfjs/threads (Node only): embedding and training on every core. tfjs's wasm backend
 * runs on one thread in Node (its threaded build does not start there), so a frozen backbone's
 * embedding and a phase's training steps leave the other cores idle. This entry point runs copies
 * of the model in worker threads, each with its own backend, and splits the work between them.
 *
 * @packageDocumentation
 * @module transferkit/tfjs/threads
 */
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { either as E, type taskEither as TE } from 'fp-ts';
import { checkEmbedOptions, type EmbedOptions, type LayerInfo } from '../../../core/backbone';
import { guardTask, optionsAt } from '../../../core/boundary';
import { aborted, backendFailure, described, invalidArgument, notSupported, thrownMessage, type TransferError } from '../../../core/errors';
import { matrix, type Matrix } from '../../../core/matrix';
import { layerAt, type TfjsBackbone } from '../backbone';
import { fromLayersModel, type FromLayersModelOptions } from '../layersModel/fromLayersModel';
import { checkInputs } from '../inputs';
import { inputRows, type TfjsInputs } from '../inputRows';
import type { EvaluationResult, GradientShare, GradientShareFactory, PrefixThreads, ShareResult } from '../session/contracts';
import { prefixCaching } from './prefixCaching';
import { sharedEvaluation } from './sharedEvaluation';
import { sharedStep } from './sharedStep';
import type { EmbedRequest, PrefixRequest, TrainingSetup, WorkerMessage, WorkerSetup } from './protocol';

/** Options of {@link withThreads}. */
export interface ThreadsOptions extends FromLayersModelOptions {
  /**
   * Worker threads, an integer from 1 to the cores Node reports (`os.availableParallelism()`):
   * more threads than cores add memory (each holds its own tfjs and copy of the model, about
   * 40 MB for a small one) and no speed. Default: that number of cores.
   */
  readonly threads?: number;
  /**
   * Modules each worker imports before it loads the model (absolute `file://` URLs, or package
   * names the worker can resolve), for models with custom layer classes: a class registered with
   * `tf.serialization.registerClass` on this thread is unknown to the workers until a module of
   * theirs registers it too. Default: none.
   */
  readonly modules?: ReadonlyArray<string>;
}

/** The most worker threads a backbone may start: the cores Node reports. */
export const maxThreads = (): number => availableParallelism();

/** What a worker's failure to start means for the caller, in words it can act on. */
const startFailure = (thrown: unknown, modules: ReadonlyArray<string>): TransferError => {
  const message = thrownMessage(thrown);
  const unknown = /Unknown layer: (\w+)/.exec(message);
  if (unknown !== null) {
    return invalidArgument(
      'options.modules',
      `modules that register the custom layer class '${unknown[1]}' in every worker thread (a class registered on this thread only is not known there; pass { modules: [new URL('./layers.js', import.meta.url).href] })`,
      modules,
    );
  }
  return backendFailure('starting embedding threads', thrown);
};

/**
 * A {@link TfjsBackbone} whose `embed` runs in worker threads and whose transfer models split each
 * training step with them; everything else is `fromLayersModel`'s.
 */
export interface ThreadedBackbone extends TfjsBackbone {
  /** How many worker threads embed (and how many threads, this one included, share each training step). */
  readonly threads: number;
  /** Stops the worker threads; `embed` gives an error after it. The model stays the caller's. */
  readonly close: () => Promise<void>;
  /** How many tensors each worker thread holds (its copy of the model, and what a phase left): for checking leaks. An error once closed. */
  readonly tensorsInThreads: () => TE.TaskEither<TransferError, ReadonlyArray<number>>;
}

const SUPPORTED = ['wasm', 'cpu'];

/** Where this module runs from decides which worker to start: the built one, or the TypeScript one via boot.mjs. */
const workerEntry = (): { file: URL; source?: string } => {
  const meta = (import.meta as { url?: string }).url;
  const here = meta ?? pathToFileURL(typeof __filename === 'string' ? __filename : '').href;
  if (here.endsWith('.ts')) return { file: new URL('./boot.mjs', here), source: new URL('./worker.ts', here).href };
  return { file: new URL('./tfjs-threads-worker.js', here) };
};

/** The model as `model.save` writes it, in memory. */
const artifactsOf = async (model: tfl.LayersModel): Promise<tf.io.ModelArtifacts> => {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return saved!;
};

/** One worker thread and the requests it has not answered yet. */
interface Thread {
  readonly worker: Worker;
  readonly pending: Map<number, { resolve: (m: WorkerMessage) => void; reject: (e: Error) => void }>;
  /** Set once the thread has stopped (closed, crashed or out of memory): requests fail at once. */
  exited?: Error;
}

const startThread = (setup: WorkerSetup, entry: URL): Promise<Thread> =>
  new Promise((resolve, reject) => {
    const worker = new Worker(entry, { workerData: setup });
    const thread: Thread = { worker, pending: new Map() };
    const failAll = (error: Error): void => {
      for (const p of thread.pending.values()) p.reject(error);
      thread.pending.clear();
    };
    worker.once('message', (first: WorkerMessage) => {
      if (first.kind !== 'ready') {
        void worker.terminate();
        reject(new Error(first.kind === 'failed' ? first.message : `unexpected message '${first.kind}'`));
        return;
      }
      worker.on('message', (m: WorkerMessage) => {
        if (!('id' in m)) return;
        thread.pending.get(m.id)?.resolve(m);
        thread.pending.delete(m.id);
      });
      resolve(thread);
    });
    worker.on('error', (error) => {
      failAll(error);
      reject(error);
    });
    worker.on('exit', (code) => {
      thread.exited = new Error(`the worker thread exited (code ${code})`);
      failAll(thread.exited);
      reject(thread.exited); // if it exits before it is ready (after, this does nothing)
    });
  });

/** Starts `count` threads from one setup; if any fails, stops the others and throws its reason. */
const startThreads = async (setup: WorkerSetup, entry: URL, count: number): Promise<Thread[]> => {
  const started = await Promise.allSettled(Array.from({ length: count }, () => startThread(setup, entry)));
  const threads = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed !== undefined) {
    await Promise.all(threads.map((t) => t.worker.terminate()));
    throw failed.reason;
  }
  return threads;
};

let nextRequest = 0;

/** Sends a request to a thread; its answer (or the thread's end) settles the promise. */
const request = (thread: Thread, message: object, transfer: ArrayBuffer[]): Promise<WorkerMessage> =>
  new Promise((resolve, reject) => {
    if (thread.exited !== undefined) {
      reject(thread.exited);
      return;
    }
    const id = nextRequest++;
    thread.pending.set(id, { resolve, reject });
    thread.worker.postMessage({ ...message, id }, transfer);
  });

/** A worker's answer if it is of the kind asked for; else its error (or the surprise) is thrown. */
const answered = <K extends WorkerMessage['kind']>(answer: WorkerMessage, kind: K): Extract<WorkerMessage, { kind: K }> => {
  if (answer.kind === kind) return answer as Extract<WorkerMessage, { kind: K }>;
  throw new Error(answer.kind === 'error' ? answer.message : `unexpected answer '${answer.kind}'`);
};

let nextPhase = 0;

/**
 * Gradient shares for the training steps of each phase: the first `count − 1` of the backbone's
 * worker threads, each sent a copy of the phase's trainable part when the phase starts (they are
 * already running: a phase pays no thread start-up) and told to free it when the phase ends. None
 * once the threads are closed.
 */
const trainingShares =
  (threads: ReadonlyArray<Thread>, isOpen: () => boolean): GradientShareFactory =>
  async (spec) => {
    const helpers = threads.slice(0, threads.length - 1);
    if (!isOpen() || helpers.length === 0) return [];
    const phase = nextPhase++;
    const setup: TrainingSetup = {
      ...(spec.suffix === undefined ? {} : { suffix: await artifactsOf(spec.suffix) }),
      head: await artifactsOf(spec.head),
      dropout: spec.dropout,
      classes: spec.classes,
      trained: spec.trained,
      rowShapes: spec.rowShapes,
      microBatch: spec.microBatch,
    };
    const end = (thread: Thread): void => void request(thread, { kind: 'end-train', phase }, []).catch(() => undefined);
    // Every thread answers before any is told to end, so none is left holding the part.
    const started = await Promise.allSettled(helpers.map((thread) => request(thread, { kind: 'train', phase, setup }, []).then((a) => answered(a, 'training'))));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed !== undefined) {
      helpers.forEach(end);
      throw failed.reason;
    }
    return helpers.map(
      (thread): GradientShare => ({
        compute: async (r): Promise<ShareResult> => {
          // Every array of the request is the share's own (ShareRequest): all are moved, none copied.
          const moved = [...r.weights, ...r.rows, r.labels].map((x) => x.buffer as ArrayBuffer);
          const answer = answered(await request(thread, { kind: 'compute', phase, ...r }, moved), 'computed');
          return { grads: answer.grads, lossSum: answer.lossSum, correct: answer.correct };
        },
        evaluate: async (r): Promise<EvaluationResult> => {
          const moved = [...(r.weights ?? []), ...r.rows, r.labels].map((x) => x.buffer as ArrayBuffer);
          const answer = answered(await request(thread, { kind: 'evaluate', phase, ...r }, moved), 'evaluated');
          return { lossSum: answer.lossSum, correct: answer.correct, ...(answer.weights === undefined ? {} : { weights: answer.weights }) };
        },
        dispose: () => end(thread),
      }),
    );
  };

/**
 * Wraps a tfjs-layers model like {@link fromLayersModel}, with its work spread over threads on the
 * backend the caller's thread uses (wasm or cpu):
 * - `embed`: each worker thread holds its own copy of the model and embeds a contiguous share of
 *   the rows with the same compiled path; the rows come back in order. On 2 cores, MobileNetV2
 *   embeds 1.6–1.9× as many images per second as on one thread.
 * - `transfer`: while the frozen prefix's weights are still the source's (always in a first phase;
 *   later, unless an earlier phase trained part of it), the threads cache its outputs, a batch each
 *   in turn, with the same compiled path. Then `threads − 1` of them get a copy of the phase's
 *   trainable part (freed when the phase ends); every step splits its batch between them and this
 *   thread, adds the gradients up (the batch's mean loss is the size-weighted sum of the parts'
 *   means) and applies them once; every batch the phase evaluates (its validation set after each
 *   epoch, the probes of its training set) is split the same way, the losses and correct counts
 *   added up. Without dropout the result equals one thread's to float
 *   rounding; with dropout each part draws its own masks. A phase's history says how many threads
 *   cached (`cacheThreads`) and trained (`trainThreads`).
 *   (`npm run bench -- cnn`, `-- embedding` and `-- finetune`, docs/benchmarks.md.)
 *
 * Starting threads takes a moment (each loads tfjs and the model), so keep the backbone for many
 * calls and `close()` it when done: until then its threads keep the Node process alive. Once
 * closed, `embed` gives an error and transfer runs on the caller's thread alone.
 *
 * @returns the backbone, or `InvalidArgument` for a bad `threads`, `NotSupported` for a backend
 * other than wasm or cpu, `BackendFailure` if a thread cannot start
 *
 * @example
 * ```ts
 * import '@tensorflow/tfjs-backend-cpu';
 * import * as tf from '@tensorflow/tfjs-core';
 * import * as tfl from '@tensorflow/tfjs-layers';
 * import { either as E } from 'fp-ts';
 * import { withThreads } from 'transferkit/tfjs/threads';
 *
 * await tf.setBackend('cpu');
 * const source = tfl.sequential({
 *   layers: [tfl.layers.dense({ inputShape: [4], units: 8, name: 'features' }), tfl.layers.dense({ units: 3, activation: 'softmax' })],
 * });
 * const backbone = await withThreads(source, { threads: 2 })();
 * if (E.isRight(backbone)) {
 *   const x = tf.randomNormal([10, 4]);
 *   const features = await backbone.right.embed(x, backbone.right.layers[backbone.right.top]!, { pooling: 'average', batchSize: 4 })();
 *   if (E.isRight(features)) console.log(features.right.rows, features.right.cols); // 10 8
 *   x.dispose();
 *   await backbone.right.close();
 * }
 * source.dispose();
 * ```
 * @function
 */
export const withThreads = guardTask(
  'withThreads',
  (model: tfl.LayersModel, optionsIn?: ThreadsOptions): TE.TaskEither<TransferError, ThreadedBackbone> =>
  async () => {
    const given = optionsAt('options', optionsIn);
    if (E.isLeft(given)) return given;
    const options = given.right;
    const most = maxThreads();
    const count = options.threads ?? most;
    if (!(typeof count === 'number' && Number.isInteger(count) && count >= 1 && count <= most)) {
      return E.left(invalidArgument('options.threads', `an integer from 1 to ${most} (the cores this machine has)`, count));
    }
    const modules = options.modules ?? [];
    if (!Array.isArray(modules) || modules.some((m) => typeof m !== 'string' || m.length === 0)) {
      return E.left(invalidArgument('options.modules', 'an array of module URLs or package names (or nothing)', modules));
    }
    const base = fromLayersModel(model, options.top === undefined ? {} : { top: options.top });
    if (E.isLeft(base)) return base;
    const backend = tf.getBackend();
    if (!SUPPORTED.includes(backend)) return E.left(notSupported('backend', `a backend worker threads can load (${SUPPORTED.join(' or ')})`, `'${backend}'`));
    const entry = workerEntry();
    let threads: Thread[];
    try {
      const setup: WorkerSetup = { artifacts: await artifactsOf(model), backend, ...(entry.source === undefined ? {} : { source: entry.source }), ...(modules.length === 0 ? {} : { modules }) };
      threads = await startThreads(setup, entry.file, count);
    } catch (thrown) {
      return E.left(startFailure(thrown, modules));
    }
    let open = true;
    const ask = (thread: Thread, r: Omit<EmbedRequest, 'id'>): Promise<WorkerMessage> => request(thread, r, [r.data.buffer as ArrayBuffer]);

    /**
     * Each thread embeds a contiguous share of the rows, `batchSize` rows per request, one request
     * at a time: the signal is read before each, so no request is sent after it fires.
     */
    const embed = (x: TfjsInputs, at: LayerInfo, options: EmbedOptions): TE.TaskEither<TransferError, Matrix> => async () => {
      if (!open) return E.left(invalidArgument('backbone', 'an open threaded backbone', described('one whose threads were closed')));
      const how = checkEmbedOptions(options);
      if (E.isLeft(how)) return how;
      const { pooling, batchSize, signal } = how.right;
      const layer = layerAt(base.right.layers, at);
      if (E.isLeft(layer)) return layer;
      const n = checkInputs(model, x);
      if (E.isLeft(n)) return n;
      try {
        const input = inputRows(x);
        const share = Math.ceil(n.right / threads.length);
        let stopped = false;
        const embedShare = async (thread: Thread, from: number, rows: number): Promise<Array<Extract<WorkerMessage, { kind: 'embedded' }>>> => {
          const parts: Array<Extract<WorkerMessage, { kind: 'embedded' }>> = [];
          for (let start = from; start < from + rows && !stopped; start += batchSize) {
            if (signal?.aborted === true) {
              stopped = true;
              break;
            }
            const size = Math.min(batchSize, from + rows - start);
            const data = new Float32Array(size * input.rowSize);
            input.read(start, size, data);
            parts.push(answered(await ask(thread, { data, shape: [size, ...input.shape], dtype: 'float32', layer: layer.right.name, pooling, batchSize }), 'embedded'));
          }
          return parts;
        };
        const shares = await Promise.all(threads.map((thread, i) => embedShare(thread, i * share, Math.max(0, Math.min(share, n.right - i * share)))));
        if (stopped) return E.left(aborted(`embedding at ${layer.right.name} on ${threads.length} threads`));
        const parts = shares.flat();
        const cols = parts[0]!.cols;
        const data = new Float32Array(n.right * cols);
        let row = 0;
        for (const part of parts) {
          data.set(part.data, row * cols);
          row += part.rows;
        }
        return matrix(n.right, cols, data);
      } catch (thrown) {
        return E.left(backendFailure(`embedding at ${layer.right.name}`, thrown));
      }
    };

    const close = async (): Promise<void> => {
      if (!open) return;
      open = false;
      await Promise.all(threads.map((t) => t.worker.terminate()));
    };

    // Training: each phase's frozen prefix is cached by the embedding threads (they hold the
    // source's weights) while its weights are still the source's, and its steps split their
    // batches between this thread and threads − 1 others.
    const shares = trainingShares(threads, () => open);
    const prefixThreads: PrefixThreads = {
      get count() {
        return open ? threads.length : 0; // once closed, phases cache on the caller's thread
      },
      run: async (i, r) => {
        const answer = answered(await request(threads[i]!, { kind: 'prefix', ...r } satisfies Omit<PrefixRequest, 'id'>, [r.data.buffer as ArrayBuffer]), 'prefixed');
        return { rows: answer.rows, data: answer.data };
      },
      done: async () => {
        await Promise.allSettled(threads.map((thread) => request(thread, { kind: 'prefix-done' }, [])));
      },
    };
    const build: TfjsBackbone['build'] = (spec) => async () => {
      const built = await base.right.build(spec)();
      if (E.isRight(built)) {
        built.right.useGradientShares({ make: shares, step: sharedStep, evaluate: sharedEvaluation });
        built.right.usePrefixThreads(prefixCaching(prefixThreads));
      }
      return built;
    };

    const tensorsInThreads = (): TE.TaskEither<TransferError, ReadonlyArray<number>> => async () => {
      if (!open) return E.left(invalidArgument('backbone', 'an open threaded backbone', described('one whose threads were closed')));
      try {
        const answers = await Promise.all(threads.map((thread) => request(thread, { kind: 'memory' }, [])));
        return E.right(answers.map((a) => answered(a, 'memory').tensors));
      } catch (thrown) {
        return E.left(backendFailure('counting the threads\' tensors', thrown));
      }
    };

    // Without the base's one-pass embedEach: every embedding here runs in the threads (and fails once they are closed).
    const { embedEach: _oneThread, ...single } = base.right;
    return E.right({ ...single, embed, build, threads: threads.length, close, tensorsInThreads });
  },
);
