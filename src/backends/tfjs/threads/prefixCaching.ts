/**
 * Caching a phase's frozen prefix on the worker threads, which hold the source's weights: the
 * {@link PrefixCaching} that transferkit/tfjs/threads gives a transfer model.
 */
import type { RowStoreFactory } from '../../../core/rowStore';
import { Stopped } from '../compile';
import type { Layer, SymbolicTensor } from '../graph';
import type { InputRows } from '../inputRows';
import { fillStores, type Cached } from '../session/caching';
import type { PrefixCaching, PrefixThreads, TensorRef } from '../session/contracts';
import type { Parts } from '../session/parts';

/**
 * Caching the frozen prefix on other threads (see `cachePrefix` in session/caching.ts): each thread keeps up to two batches in flight and takes the next
 * batch as soon as it ends one (a slower thread gets fewer), while at most two batches per thread
 * are out beyond the stores; the rows are appended in input order as their batches come back, so
 * the stores hold what this thread would have computed. Once `signal` fires no batch is sent; the
 * ones under way are awaited, then it throws {@link Stopped}.
 */
const cacheOnThreads = (
  threads: PrefixThreads,
  count: number,
  refs: ReadonlyArray<TensorRef>,
  crossing: ReadonlyArray<SymbolicTensor>,
  x: InputRows,
  batchSize: number,
  store: RowStoreFactory,
  signal: AbortSignal | undefined,
): Promise<Cached[]> =>
  fillStores(crossing, store, async (append) => {
    const n = x.count;
    const batches = Math.ceil(n / batchSize);
    /** Input arrays the threads have sent back, to read the next batches into. */
    const spare: Float32Array[] = [];
    const ask = async (thread: number, b: number): Promise<Float32Array[]> => {
      const from = b * batchSize;
      const size = Math.min(batchSize, n - from);
      const floats = size * x.rowSize;
      const reuse = spare.findIndex((a) => a.length === floats);
      const data = reuse < 0 ? new Float32Array(floats) : spare.splice(reuse, 1)[0]!;
      x.read(from, size, data);
      const answer = await threads.run(thread, { outputs: refs, data, shape: [size, ...x.shape], batchSize });
      spare.push(answer.data);
      return answer.rows;
    };
    const finished = new Map<number, Float32Array[]>();
    const running = new Set<Promise<void>>();
    /** A slot per batch a thread may hold: thread t twice. */
    const free = Array.from({ length: 2 * count }, (_, i) => i % count);
    let next = 0;
    let appended = 0;
    let failure: { thrown: unknown } | undefined;
    await new Promise<void>((resolve) => {
      const pump = (): void => {
        if (signal?.aborted === true) failure ??= { thrown: new Stopped(appended, batches) };
        while (failure === undefined && free.length > 0 && next < batches && next - appended < 2 * count) {
          const thread = free.shift()!;
          const b = next++;
          const job = (async () => {
            try {
              finished.set(b, await ask(thread, b));
              for (; finished.has(appended); appended++) {
                finished.get(appended)!.forEach((r, k) => append(k, r));
                finished.delete(appended);
              }
            } catch (thrown) {
              failure ??= { thrown };
            }
          })();
          running.add(job);
          void job.then(() => {
            running.delete(job);
            free.push(thread);
            pump();
          });
        }
        // Done once every batch is appended, or, after a failure, once no thread is mid-request.
        if (failure === undefined ? appended === batches : running.size === 0) resolve();
      };
      pump();
    });
    if (failure !== undefined) throw failure.thrown;
  });

/**
 * The crossing tensors as another thread's copy of the source can find them, or undefined where it
 * cannot (a crossing tensor is the model's input: there is nothing to run).
 */
const tensorRefs = (parts: Parts, crossing: ReadonlyArray<SymbolicTensor>): TensorRef[] | undefined => {
  const backbone = new Set<Layer>(parts.backbone);
  const refs: TensorRef[] = [];
  for (const t of crossing) {
    let layer = t.sourceLayer as Layer;
    let tensor = t;
    let pool: string | undefined;
    if (!backbone.has(layer)) {
      // The transfer model's own pooling layer: the source has the tensor it pools.
      const input = layer.inboundNodes[0]?.inputTensors[0];
      if (layer.getClassName() === 'InputLayer' || input === undefined || !backbone.has(input.sourceLayer as Layer)) return undefined;
      pool = layer.getClassName();
      tensor = input;
      layer = input.sourceLayer as Layer;
    }
    const index = layer.inboundNodes[0]?.outputTensors.findIndex((o) => o.id === tensor.id) ?? -1;
    if (index < 0) return undefined;
    refs.push(pool === undefined ? { layer: layer.name, index } : { layer: layer.name, index, pool });
  }
  return refs;
};

/** The caching of `threads`, for a transfer model's phases. */
export const prefixCaching = (threads: PrefixThreads): PrefixCaching => ({
  get count() {
    return threads.count;
  },
  plan: (parts, crossing, count) => {
    const refs = tensorRefs(parts, crossing);
    return refs === undefined ? undefined : (x, batchSize, store, signal) => cacheOnThreads(threads, count, refs, crossing, x, batchSize, store, signal);
  },
  done: () => threads.done(),
});
