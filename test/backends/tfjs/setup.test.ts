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
    expect(chosen.description).toMatch(/^tfjs backend 'wasm' \(SIMD on; transferkit kernels: Slice, Tile, Conv2DBackpropFilter/);
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
});
