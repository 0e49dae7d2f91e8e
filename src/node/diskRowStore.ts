/**
 * A row store that spills to disk: rows stay in memory up to a budget shared by every store the
 * factory makes, and the rest go to a temporary file, read back row by row. Memory then stays flat
 * however large the dataset, at the price of a read per row (served by the OS page cache when the
 * file fits in it).
 */
import { accessSync, closeSync, constants, mkdtempSync, openSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { either as E } from 'fp-ts';
import { guard, optionsAt } from '../core/boundary';
import { described, invalidArgument, thrownMessage, type TransferError } from '../core/errors';
import { chunkedRows, type RowStore, type RowStoreFactory } from '../core/rowStore';

/** Options of {@link diskRowStore}. */
export interface DiskRowStoreOptions {
  /** Bytes of rows kept in memory across all live stores of this factory before spilling (default 256 MB; 0 spills everything). */
  readonly memoryBytes?: number;
  /** Where the temporary files go (default: the OS temporary directory). Each is removed on dispose. */
  readonly directory?: string;
}

/** 256 MB. */
export const DEFAULT_MEMORY_BYTES = 256 * 1024 * 1024;

/**
 * Whether `directory` is a directory this process can create files in: it is made into a
 * temporary directory and removed again, so a full or read-only disk is found now, not after a
 * phase has trained.
 */
const probe = (directory: string): E.Either<TransferError, void> => {
  try {
    if (!statSync(directory).isDirectory()) return E.left(invalidArgument('options.directory', 'a directory', directory));
    accessSync(directory, constants.W_OK);
    rmSync(mkdtempSync(join(directory, 'transferkit-probe-')), { recursive: true, force: true });
    return E.right(undefined);
  } catch (thrown) {
    return E.left(invalidArgument('options.directory', 'a directory this process can write temporary files in', described(`${JSON.stringify(directory)} (${thrownMessage(thrown)})`)));
  }
};

/**
 * Makes row stores that keep rows in memory up to `memoryBytes` in all, then spill to a file.
 * The directory is tried (a temporary directory made and removed) when the factory is made.
 *
 * @returns the factory, or `InvalidArgument` for a `memoryBytes` that is not a number ≥ 0, or a
 * `directory` that is not a string naming a directory this process can write in
 *
 * @example
 * ```ts
 * import { either as E } from 'fp-ts';
 * import { diskRowStore } from 'transferkit/node';
 *
 * const factory = diskRowStore({ memoryBytes: 0 });
 * if (E.isRight(factory)) {
 *   const store = factory.right(3);
 *   store.append(Float32Array.of(1, 2, 3, 4, 5, 6));
 *   const row = new Float32Array(3);
 *   store.gather(Int32Array.of(1), row);
 *   console.log(Array.from(row), store.memoryBytes); // [4, 5, 6] 0
 *   store.dispose();
 * }
 * ```
 * @function
 */
export const diskRowStore = guard('diskRowStore', (options: DiskRowStoreOptions = {}): E.Either<TransferError, RowStoreFactory> => {
  const checked = optionsAt('options', options);
  if (E.isLeft(checked)) return checked;
  const budget = checked.right.memoryBytes ?? DEFAULT_MEMORY_BYTES;
  if (!(typeof budget === 'number' && Number.isFinite(budget) && budget >= 0)) return E.left(invalidArgument('options.memoryBytes', 'a finite number ≥ 0', budget));
  const directory = checked.right.directory ?? tmpdir();
  if (typeof directory !== 'string' || directory.length === 0) return E.left(invalidArgument('options.directory', 'a directory path (a non-empty string)', directory));
  const probed = probe(directory);
  if (E.isLeft(probed)) return probed;
  return E.right(spillingStores(budget, directory));
});

/** The stores {@link diskRowStore} makes, for checked options. */
const spillingStores = (budget: number, directory: string): RowStoreFactory => {
  let used = 0;
  return (rowSize) => {
    const rowBytes = rowSize * 4;
    // Rows [0, inMemory) live in memory chunks; the rest in the file, in order.
    // Chunks no larger than the budget, so a small budget is not exceeded by one chunk.
    const memory = chunkedRows(Math.max(rowSize, Math.min(1 << 18, Math.floor(budget / 4))))(rowSize);
    let inMemory = 0;
    let memoryClosed = false;
    let onDisk = 0;
    let file: { fd: number; dir: string } | undefined;
    let reserved = 0;

    const spill = (values: Float32Array): void => {
      if (file === undefined) {
        const dir = mkdtempSync(join(directory, 'transferkit-rows-'));
        file = { fd: openSync(join(dir, 'rows.f32'), 'w+'), dir };
      }
      const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
      let written = 0;
      while (written < bytes.length) written += writeSync(file.fd, bytes, written, bytes.length - written, onDisk * rowBytes + written);
      onDisk += values.length / rowSize;
    };

    const store: RowStore = {
      rowSize,
      get rows() {
        return inMemory + onDisk;
      },
      get memoryBytes() {
        return memory.memoryBytes;
      },
      append(values) {
        const count = values.length / rowSize;
        if (!Number.isInteger(count)) throw new Error(`append: ${values.length} floats are not whole rows of ${rowSize}`);
        let taken = 0;
        if (!memoryClosed) {
          // Rows fit in memory while the shared budget allows; once one spills, all later rows do.
          const fit = Math.min(count, Math.floor((budget - used) / rowBytes));
          if (fit > 0) {
            memory.append(values.subarray(0, fit * rowSize));
            used += fit * rowBytes;
            reserved += fit * rowBytes;
            inMemory += fit;
            taken = fit;
          }
          if (taken < count) memoryClosed = true;
        }
        if (taken < count) spill(values.subarray(taken * rowSize));
      },
      gather(indices, out) {
        const view = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
        const memoryRow = new Int32Array(1);
        indices.forEach((row, k) => {
          if (!(row >= 0 && row < inMemory + onDisk)) throw new RangeError(`gather: row ${row} of ${inMemory + onDisk}`);
          if (row < inMemory) {
            memoryRow[0] = row;
            memory.gather(memoryRow, out.subarray(k * rowSize, (k + 1) * rowSize));
            return;
          }
          let read = 0;
          const at = k * rowBytes;
          const position = (row - inMemory) * rowBytes;
          while (read < rowBytes) {
            const n = readSync(file!.fd, view, at + read, rowBytes - read, position + read);
            if (n === 0) throw new Error(`gather: the spill file ended at row ${row}`);
            read += n;
          }
        });
      },
      dispose() {
        memory.dispose();
        used -= reserved;
        reserved = 0;
        inMemory = 0;
        onDisk = 0;
        if (file !== undefined) {
          closeSync(file.fd);
          rmSync(file.dir, { recursive: true, force: true });
          file = undefined;
        }
      },
    };
    return store;
  };
};
