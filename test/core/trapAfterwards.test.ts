/**
 * After a WebAssembly trap, every later backend failure in the process says the module trapped
 * (its own file: the errors remember the first trap for the rest of the process).
 */
import { describe, expect, it } from 'vitest';
import { backendFailure } from 'transferkit';

const RuntimeError = (globalThis as unknown as { WebAssembly: { RuntimeError: new (m: string) => Error } }).WebAssembly.RuntimeError;

describe('a trapped WebAssembly module, afterwards', () => {
  it('is named in every later failure, with what trapped it', () => {
    expect(backendFailure('predicting', new Error('x')).message).toBe('predicting failed: x');
    const trap = backendFailure('a training step', new RuntimeError('memory access out of bounds'));
    expect(trap.message).toMatch(/memory access out of bounds \(the WebAssembly module trapped/);
    for (const later of [backendFailure('predicting', new Error('y')), backendFailure('embedding', 'z')]) {
      expect(later.message).toMatch(/trapped earlier in this process, while a training step, and does not compute again/);
    }
  });
});
