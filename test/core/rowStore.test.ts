import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { memoryRowStore } from 'transferkit';
import { ok } from '../fixtures/either';

describe('memoryRowStore', () => {
  it('gives back any rows in any order, across chunk boundaries, whatever the append sizes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (rowSize, chunkFloats, appends, picks) => {
          const store = ok(memoryRowStore({ chunkFloats }))(rowSize);
          let next = 0;
          for (const count of appends) {
            store.append(Float32Array.from({ length: count * rowSize }, (_, i) => next * rowSize + i));
            next += count;
          }
          expect(store.rows).toBe(next);
          if (next === 0) return;
          const indices = Int32Array.from(picks, (p) => p % next);
          const out = new Float32Array(indices.length * rowSize);
          store.gather(indices, out);
          indices.forEach((row, k) => {
            for (let j = 0; j < rowSize; j++) expect(out[k * rowSize + j]).toBe(row * rowSize + j);
          });
        },
      ),
    );
  });

  it('holds memory in chunks as rows arrive, never one array of the whole set', () => {
    const store = ok(memoryRowStore({ chunkFloats: 100 }))(10);
    expect(store.memoryBytes).toBe(0);
    store.append(new Float32Array(10 * 25));
    // 10 rows per chunk: 3 chunks of 100 floats.
    expect(store.memoryBytes).toBe(3 * 100 * 4);
    store.dispose();
    expect(store.memoryBytes).toBe(0);
  });

  it('refuses partial rows and rows it does not have', () => {
    const store = ok(memoryRowStore())(3);
    expect(() => store.append(new Float32Array(4))).toThrow(/whole rows/);
    store.append(new Float32Array(6));
    expect(() => store.gather(Int32Array.of(2), new Float32Array(3))).toThrow(RangeError);
  });
});
