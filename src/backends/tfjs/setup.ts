/**
 * Choosing the tfjs backend: one call that picks the fastest one available, registers
 * transferkit's kernel pack for it, and says what it chose and why.
 */
import * as tf from '@tensorflow/tfjs-core';
import { either as E, taskEither as TE } from 'fp-ts';
import { guardTask, optionsAt } from '../../core/boundary';
import { backendFailure, invalidArgument, type TransferError } from '../../core/errors';
import { KERNEL_PACK, registerTransferKernels, type RegisteredKernels } from './kernels/register';

/**
 * The default order: a native or GPU backend where the app brought one (tfjs-node's `tensorflow`,
 * `webgpu`, `webgl`), then `wasm` (SIMD; its kernels are 10–30× faster than cpu's on this
 * library's workloads, `npm run bench`), then the plain JavaScript `cpu`.
 */
export const BACKEND_PREFERENCE: ReadonlyArray<string> = ['tensorflow', 'webgpu', 'webgl', 'wasm', 'cpu'];

/** The package that provides a backend, for loading it on demand. */
const WASM_PACKAGE = '@tensorflow/tfjs-backend-wasm';

export interface BackendSetupOptions {
  /** Backends to try, in order (default `BACKEND_PREFERENCE`). Naming one is how an app insists on it. */
  readonly prefer?: ReadonlyArray<string>;
  /** Register transferkit's kernel pack for the chosen backend where it has one (default true). */
  readonly kernels?: boolean;
  /**
   * Import `@tensorflow/tfjs-backend-wasm` when it is installed but not yet imported (default
   * true). Set false in a bundled app that imports it itself.
   */
  readonly loadWasm?: boolean;
}

export interface BackendChoice {
  /** The backend now in use. */
  readonly backend: string;
  /** The kernel pack registered for it, if any. */
  readonly kernels: RegisteredKernels | undefined;
  /** For wasm: whether SIMD and threads are on. */
  readonly wasm?: { readonly simd: boolean; readonly threads: boolean };
  /** Backends passed over, with the reason. */
  readonly skipped: ReadonlyArray<{ readonly backend: string; readonly reason: string }>;
  /** One line for a log. */
  readonly description: string;
}

const loadWasm = async (): Promise<string | undefined> => {
  if (tf.findBackendFactory('wasm') !== null) return undefined;
  try {
    // A computed specifier keeps bundlers from requiring the optional package at build time.
    const specifier = WASM_PACKAGE;
    await import(/* @vite-ignore */ specifier);
    return undefined;
  } catch (thrown) {
    return `${WASM_PACKAGE} is not installed (${(thrown as Error).message.split('\n')[0]})`;
  }
};

/**
 * Selects the fastest tfjs backend available and registers transferkit's kernel pack for it.
 *
 * A backend the app has already set, other than the `cpu` fallback, is kept. Otherwise the first
 * of `prefer` that is registered and initialises is used: in Node that is `wasm` when
 * `@tensorflow/tfjs-backend-wasm` is installed (it is imported on demand), else `cpu`; in a
 * browser, `webgl` or `webgpu` when the app imported them. Each backend passed over is reported
 * with its reason.
 *
 * @example
 * ```ts
 * import { setupBackend } from 'transferkit/tfjs';
 * import '@tensorflow/tfjs-backend-cpu';
 *
 * const choice = await setupBackend({ prefer: ['cpu'] })();
 * if (choice._tag === 'Right') console.log(choice.right.description);
 * ```
 */
export const setupBackend = guardTask(
  'setupBackend',
  (optionsIn?: BackendSetupOptions): TE.TaskEither<TransferError, BackendChoice> =>
  async () => {
    const given = optionsAt('options', optionsIn);
    if (E.isLeft(given)) return given;
    const options = given.right;
    for (const flag of ['kernels', 'loadWasm'] as const) {
      if (options[flag] !== undefined && typeof options[flag] !== 'boolean') return E.left(invalidArgument(`options.${flag}`, 'true or false (or nothing)', options[flag]));
    }
    const prefer = options.prefer ?? BACKEND_PREFERENCE;
    if (!Array.isArray(prefer) || prefer.length === 0 || prefer.some((p) => typeof p !== 'string')) {
      return E.left(invalidArgument('options.prefer', 'a non-empty list of backend names', prefer));
    }
    const skipped: Array<{ backend: string; reason: string }> = [];
    try {
      const current = tf.engine().backendName as string | null | undefined;
      let chosen: string | undefined;
      if (options.prefer === undefined && current != null && current !== 'cpu') {
        chosen = current;
      } else {
        for (const name of prefer) {
          if (name === 'wasm' && options.loadWasm !== false) {
            const problem = await loadWasm();
            if (problem !== undefined) {
              skipped.push({ backend: name, reason: problem });
              continue;
            }
          }
          if (tf.findBackendFactory(name) === null && tf.findBackend(name) === null) {
            skipped.push({ backend: name, reason: 'not registered (its package is not imported)' });
            continue;
          }
          let initialised = false;
          try {
            initialised = await tf.setBackend(name);
          } catch (thrown) {
            skipped.push({ backend: name, reason: `failed to initialise: ${(thrown as Error).message}` });
            continue;
          }
          if (!initialised) {
            skipped.push({ backend: name, reason: 'failed to initialise' });
            continue;
          }
          chosen = name;
          break;
        }
      }
      if (chosen === undefined) {
        return E.left(backendFailure('choosing a backend', new Error(`none of ${prefer.join(', ')} is available: ${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')}`)));
      }
      await tf.ready();
      let kernels: RegisteredKernels | undefined;
      if (options.kernels !== false && KERNEL_PACK[chosen] !== undefined) {
        const registered = registerTransferKernels(chosen);
        if (E.isLeft(registered)) return registered;
        kernels = registered.right;
      }
      const wasm = chosen === 'wasm' ? { simd: (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true, threads: (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) === true } : undefined;
      const details = [
        wasm === undefined ? undefined : `SIMD ${wasm.simd ? 'on' : 'off'}`,
        kernels === undefined ? 'no transferkit kernels' : `transferkit kernels: ${kernels.kernels.join(', ')}`,
      ].filter((d) => d !== undefined);
      const description = `tfjs backend '${chosen}' (${details.join('; ')})${skipped.length > 0 ? `; passed over ${skipped.map((s) => `${s.backend} (${s.reason})`).join(', ')}` : ''}`;
      return E.right({ backend: chosen, kernels, ...(wasm === undefined ? {} : { wasm }), skipped, description });
    } catch (thrown) {
      return E.left(backendFailure('choosing a backend', thrown));
    }
  },
);
