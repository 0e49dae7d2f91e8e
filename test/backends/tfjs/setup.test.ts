import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { afterEach, describe, expect, it } from 'vitest';
import { KERNEL_PACK, setupBackend, type BackendChoice } from 'transferkit/tfjs';
import { err, ok } from '../../fixtures/either';

let chosen: BackendChoice | undefined;
afterEach(() => {
  chosen?.kernels?.unregister();
  chosen = undefined;
});

describe('setupBackend', () => {
  it('picks wasm in Node when the wasm package is installed, with SIMD and the kernel pack', async () => {
    chosen = ok(await setupBackend()());
    expect(chosen.backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(chosen.wasm?.simd).toBe(true);
    expect(chosen.kernels?.kernels).toEqual(KERNEL_PACK['wasm']);
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
    // tfjs-node, webgpu and webgl are not imported here: each is reported as passed over.
    expect(chosen.skipped.map((s) => s.backend)).toEqual(['tensorflow', 'webgpu', 'webgl']);
    expect(chosen.description).toMatch(/^tfjs backend 'wasm' \(SIMD on, threads off; transferkit kernels: Identity, Slice, Tile, Conv2DBackpropFilter/);
  });

  it('follows the order it is given, and reports what it passed over', async () => {
    chosen = ok(await setupBackend({ prefer: ['no-such-backend', 'cpu'] })());
    expect(chosen.backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(chosen.skipped).toEqual([{ backend: 'no-such-backend', reason: 'not registered (its package is not imported)' }]);
    expect(chosen.kernels?.kernels).toEqual(KERNEL_PACK['cpu']);
  });

  it('registers no kernels when told not to', async () => {
    chosen = ok(await setupBackend({ prefer: ['wasm'], kernels: false })());
    expect(chosen.kernels).toBeUndefined();
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
  });

  it("keeps a backend the app already set, and brings no kernels to one it has none for", async () => {
    tf.registerBackend('app-choice', () => new MathBackendCPU());
    try {
      await tf.setBackend('app-choice');
      chosen = ok(await setupBackend()());
      expect(chosen.backend).toBe('app-choice');
      expect(chosen.kernels).toBeUndefined();
      expect(tf.getBackend()).toBe('app-choice');
    } finally {
      await tf.setBackend('cpu');
      tf.removeBackend('app-choice');
    }
  });

  it('fails with the reasons when nothing it may use is available, and rejects a bad order', async () => {
    const none = err(await setupBackend({ prefer: ['no-such-backend'] })());
    expect(none._tag).toBe('BackendFailure');
    expect(none.message).toContain('no-such-backend: not registered');
    expect(err(await setupBackend({ prefer: [] })())).toMatchObject({ _tag: 'InvalidArgument', path: 'options.prefer' });
  });

  it('passes over a backend whose initialisation never settles, and leaves tfjs usable', async () => {
    // A factory that never resolves, as tfjs-backend-wasm's does when its workers throw in a page.
    tf.registerBackend('never-ready', () => new Promise<MathBackendCPU>(() => {}));
    try {
      const before = tf.memory().numTensors;
      chosen = ok(await setupBackend({ prefer: ['never-ready', 'cpu'], initTimeoutMs: 50 })());
      expect(chosen.backend).toBe('cpu');
      expect(chosen.skipped).toEqual([{ backend: 'never-ready', reason: 'did not initialise within 50 ms (options.initTimeoutMs)' }]);
      // Without the abandoned init cleared, every operation would throw "has not yet been initialized".
      expect(tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(2)).dataSync()[0])).toBe(3);
      expect(tf.memory().numTensors).toBe(before);
      const none = err(await setupBackend({ prefer: ['never-ready'], initTimeoutMs: 50 })());
      expect(none._tag).toBe('BackendFailure');
      expect(none.message).toContain('never-ready: did not initialise within 50 ms');
    } finally {
      await tf.setBackend('cpu');
      tf.removeBackend('never-ready');
    }
  });

  it('checks the wasm options: paths, module and timeout', async () => {
    expect(err(await setupBackend({ wasmPaths: 'assets' })())).toMatchObject({ _tag: 'InvalidArgument', path: 'options.wasmPaths', expected: expect.stringContaining("ending in '/'") });
    const partial = err(await setupBackend({ wasmPaths: { 'tfjs-backend-wasm.wasm': '/a.wasm' } as never })());
    expect(partial).toMatchObject({ path: 'options.wasmPaths', expected: expect.stringContaining('missing: tfjs-backend-wasm-simd.wasm, tfjs-backend-wasm-threaded-simd.wasm') });
    expect(err(await setupBackend({ wasmModule: {} as never })())).toMatchObject({ _tag: 'InvalidArgument', path: 'options.wasmModule' });
    for (const initTimeoutMs of [0, -1, 1.5, Number.NaN]) {
      expect(err(await setupBackend({ initTimeoutMs })())).toMatchObject({ _tag: 'InvalidArgument', path: 'options.initTimeoutMs' });
    }
  });

  it('says the module is needed, not that the package is missing, when paths are asked for without it', async () => {
    await import('@tensorflow/tfjs-backend-wasm');
    chosen = ok(await setupBackend({ prefer: ['wasm', 'cpu'], loadWasm: false, wasmPaths: '/assets/' })());
    expect(chosen.backend).toBe('cpu');
    expect(chosen.skipped[0]!.reason).toMatch(/^options\.wasmPaths needs the module: pass it as options\.wasmModule/);
    expect(chosen.skipped[0]!.reason).not.toContain('not installed');
  });
});
