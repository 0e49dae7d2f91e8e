import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { diskRowStore } from 'transferkit/node';
import { err, ok } from '../fixtures/either';

const dir = mkdtempSync(join(tmpdir(), 'transferkit-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fill = (from: number, rows: number, rowSize: number): Float32Array => Float32Array.from({ length: rows * rowSize }, (_, i) => from * rowSize + i);

describe('diskRowStore', () => {
  it('gives back any rows, whether they stayed in memory or spilled, whatever the budget', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 200 }), fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 20 }), (rowSize, memoryBytes, appends, picks) => {
        const store = ok(diskRowStore({ memoryBytes, directory: dir }))(rowSize);
        let next = 0;
        for (const count of appends) {
          store.append(fill(next, count, rowSize));
          next += count;
        }
        expect(store.rows).toBe(next);
        // Rows fill whole chunks of at most the budget: never more than twice the budget in memory.
        expect(store.memoryBytes).toBeLessThanOrEqual(2 * memoryBytes);
        const indices = Int32Array.from(picks, (p) => p % next);
        const out = new Float32Array(indices.length * rowSize);
        store.gather(indices, out);
        indices.forEach((row, k) => expect(Array.from(out.subarray(k * rowSize, (k + 1) * rowSize))).toEqual(Array.from(fill(row, 1, rowSize))));
        store.dispose();
      }),
      { numRuns: 60 },
    );
  });

  it('holds no rows in memory past its budget, however many arrive', () => {
    const store = ok(diskRowStore({ memoryBytes: 0, directory: dir }))(256);
    for (let batch = 0; batch < 50; batch++) store.append(fill(batch * 32, 32, 256));
    expect(store.rows).toBe(1600);
    expect(store.memoryBytes).toBe(0);
    const out = new Float32Array(256);
    store.gather(Int32Array.of(1599), out);
    expect(out[255]).toBe(1599 * 256 + 255);
    store.dispose();
  });

  it('shares one budget among the stores of a factory, and frees it on dispose', () => {
    const factory = ok(diskRowStore({ memoryBytes: 10 * 4, directory: dir }));
    const a = factory(5);
    const b = factory(5);
    a.append(fill(0, 2, 5)); // 40 bytes: the whole budget
    b.append(fill(0, 2, 5)); // spills
    expect(a.memoryBytes).toBeGreaterThan(0);
    expect(b.memoryBytes).toBe(0);
    a.dispose();
    const c = factory(5);
    c.append(fill(0, 1, 5));
    expect(c.memoryBytes).toBeGreaterThan(0);
    b.dispose();
    c.dispose();
  });

  it('removes its file on dispose', () => {
    const own = mkdtempSync(join(dir, 'own-'));
    const store = ok(diskRowStore({ memoryBytes: 0, directory: own }))(4);
    store.append(fill(0, 3, 4));
    expect(readdirSync(own).length).toBe(1);
    store.dispose();
    expect(readdirSync(own)).toEqual([]);
    expect(existsSync(own)).toBe(true);
  });

  it('refuses a budget that is not a number ≥ 0, and a directory it cannot write in, when it is made', () => {
    for (const memoryBytes of [-1, Number.NaN, Infinity, '5' as never]) expect(err(diskRowStore({ memoryBytes }))).toMatchObject({ _tag: 'InvalidArgument', path: 'options.memoryBytes' });
    expect(err(diskRowStore({ directory: 42 as never }))).toMatchObject({ _tag: 'InvalidArgument', path: 'options.directory' });
    expect(err(diskRowStore({ directory: join(dir, 'missing') }))).toMatchObject({ _tag: 'InvalidArgument', path: 'options.directory' });
    expect(err(diskRowStore(null as never))).toMatchObject({ _tag: 'InvalidArgument', path: 'options' });
    // The probe leaves nothing behind.
    expect(readdirSync(dir).filter((name) => name.startsWith('transferkit-probe-'))).toEqual([]);
  });
});
