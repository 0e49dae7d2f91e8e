/**
 * Where cached activations live: rows of equal length, appended once and then gathered in any
 * order, batch after batch. The default keeps them in memory as fixed-size Float32Array chunks —
 * never one array as large as the dataset — and a store that spills to disk (Node) comes from
 * `transferkit/node`.
 */
import { either as E } from 'fp-ts';
import { guard, optionsAt } from './boundary';
import { invalidArgument, type TransferError } from './errors';

/** Rows of `rowSize` floats: appended in order, read back by index. */
export interface RowStore {
  /** Floats per row. */
  readonly rowSize: number;
  /** Rows stored so far. */
  readonly rows: number;
  /** Bytes this store holds in memory now. */
  readonly memoryBytes: number;
  /** Appends whole rows (`values.length` a multiple of `rowSize`). */
  append(values: Float32Array): void;
  /** Copies rows `indices[k]` into `out` at `k · rowSize`, for every k. */
  gather(indices: Int32Array, out: Float32Array): void;
  /** Frees what the store holds (memory, files). */
  dispose(): void;
}

/** Makes a store for rows of `rowSize` floats. */
export type RowStoreFactory = (rowSize: number) => RowStore;

/** Floats per in-memory chunk by default: 4 Mi floats, 16 MB. */
export const DEFAULT_CHUNK_FLOATS = 1 << 22;

/** The most floats a chunk may hold: 2^28 (1 GiB), well inside what a typed array can be. */
export const MAX_CHUNK_FLOATS = 2 ** 28;

/** Options of {@link memoryRowStore}. */
export interface MemoryRowStoreOptions {
  /** Floats per chunk, an integer from 1 to {@link MAX_CHUNK_FLOATS}. Default {@link DEFAULT_CHUNK_FLOATS}. */
  readonly chunkFloats?: number;
}

/**
 * A store that keeps rows in memory, in chunks of about `chunkFloats` floats (a chunk always holds
 * at least one row), allocated as rows arrive.
 *
 * @returns the factory, or `InvalidArgument` for options that are not an object or a
 * `chunkFloats` that is not an integer from 1 to {@link MAX_CHUNK_FLOATS}
 *
 * @example
 * ```ts
 * import { memoryRowStore } from 'transferkit';
 * import { either as E } from 'fp-ts';
 *
 * const factory = memoryRowStore({ chunkFloats: 4 });
 * if (E.isRight(factory)) {
 *   const store = factory.right(2);
 *   store.append(Float32Array.of(1, 2, 3, 4, 5, 6));
 *   const out = new Float32Array(4);
 *   store.gather(Int32Array.of(2, 0), out);
 *   console.log(Array.from(out)); // [5, 6, 1, 2]
 * }
 * ```
 * @function
 */
export const memoryRowStore = guard('memoryRowStore', (options: MemoryRowStoreOptions = {}): E.Either<TransferError, RowStoreFactory> => {
  const checked = optionsAt('options', options);
  if (E.isLeft(checked)) return checked;
  const chunkFloats = checked.right.chunkFloats ?? DEFAULT_CHUNK_FLOATS;
  if (!(Number.isInteger(chunkFloats) && chunkFloats >= 1 && chunkFloats <= MAX_CHUNK_FLOATS)) {
    return E.left(invalidArgument('options.chunkFloats', `an integer from 1 to ${MAX_CHUNK_FLOATS}`, chunkFloats));
  }
  return E.right(chunkedRows(chunkFloats));
});

/**
 * The stores {@link memoryRowStore} makes, for an already checked chunk size. A store throws a
 * `RangeError` when used against its contract (rows that are not whole, an index out of range);
 * the runner turns that into a `BackendFailure`.
 */
export const chunkedRows =
  (chunkFloats: number): RowStoreFactory =>
  (rowSize) => {
    const perChunk = Math.max(1, Math.floor(chunkFloats / rowSize));
    const chunks: Float32Array[] = [];
    let rows = 0;
    return {
      rowSize,
      get rows() {
        return rows;
      },
      get memoryBytes() {
        return chunks.reduce((sum, c) => sum + c.byteLength, 0);
      },
      append(values) {
        const count = values.length / rowSize;
        if (!Number.isInteger(count)) throw new RangeError(`append: ${values.length} floats are not whole rows of ${rowSize}`);
        for (let r = 0; r < count; ) {
          const slot = rows % perChunk;
          if (slot === 0) chunks.push(new Float32Array(perChunk * rowSize));
          const take = Math.min(perChunk - slot, count - r);
          chunks[chunks.length - 1]!.set(values.subarray(r * rowSize, (r + take) * rowSize), slot * rowSize);
          r += take;
          rows += take;
        }
      },
      gather(indices, out) {
        indices.forEach((row, k) => {
          if (!(row >= 0 && row < rows)) throw new RangeError(`gather: row ${row} of ${rows}`);
          const chunk = chunks[Math.floor(row / perChunk)]!;
          const at = (row % perChunk) * rowSize;
          out.set(chunk.subarray(at, at + rowSize), k * rowSize);
        });
      },
      dispose() {
        chunks.length = 0;
        rows = 0;
      },
    };
  };
