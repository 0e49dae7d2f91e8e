/**
 * Choosing the tfjs backend: one call that picks the fastest one available, registers
 * transferkit's kernel pack for it, and says what it chose and why.
 */
import * as tf from '@tensorflow/tfjs-core';
import { either as E, taskEither as TE } from 'fp-ts';
import { guardTask, optionsAt } from '../../core/boundary';
import { positiveInteger } from '../../core/validate';
import { backendFailure, invalidArgument, type TransferError } from '../../core/errors';
import { KERNEL_PACK, registerTransferKernels, type RegisteredKernels } from './kernels/register';
import { checkWasmModule, checkWasmPaths, loadWasmModule, type WasmModule, type WasmPaths } from './wasmLoading';

/**
 * The default order: a native or GPU backend where the app brought one (tfjs-node's `tensorflow`,
 * `webgpu`, `webgl`), then `wasm` (SIMD; its kernels are 10–30× faster than cpu's on this
 * library's workloads, `npm run bench`), then the plain JavaScript `cpu`.
 */
export const BACKEND_PREFERENCE: ReadonlyArray<string> = ['tensorflow', 'webgpu', 'webgl', 'wasm', 'cpu'];

/** How long one backend may take to initialise before it is passed over (ms). */
export const BACKEND_INIT_TIMEOUT_MS = 15_000;

/** Options of {@link setupBackend}. */
export interface BackendSetupOptions {
  /** Backends to try, in order (default `BACKEND_PREFERENCE`). Naming one is how an app insists on it. */
  readonly prefer?: ReadonlyArray<string>;
  /** Register transferkit's kernel pack for the chosen backend where it has one (default true). */
  readonly kernels?: boolean;
  /**
   * Import `@tensorflow/tfjs-backend-wasm` by name when it is installed but not yet imported
   * (default true). A browser cannot resolve a bare name at run time: a bundled app imports the
   * package itself and passes it as `wasmModule`.
   */
  readonly loadWasm?: boolean;
  /**
   * The app's own `import * as wasm from '@tensorflow/tfjs-backend-wasm'`. Needed in a bundled app
   * to set `wasmPaths`; it also registers the backend. Default: imported by name where that works (Node).
   */
  readonly wasmModule?: WasmModule;
  /**
   * Where the `.wasm` binaries are served from: a URL prefix ending in `/` (the three files of the
   * package's `dist/` copied there), or a URL for each file. Default: tfjs-backend-wasm's own
   * default (its `dist/` in Node; next to the page in a browser, which a bundler rarely provides).
   * See docs/browser.md for Vite and webpack.
   */
  readonly wasmPaths?: WasmPaths;
  /** How long one backend may take to initialise before it is passed over, in ms (default {@link BACKEND_INIT_TIMEOUT_MS}). */
  readonly initTimeoutMs?: number;
}

/** What {@link setupBackend} chose, and why. */
export interface BackendChoice {
  /** The backend now in use. */
  readonly backend: string;
  /** The kernel pack registered for it, if any. */
  readonly kernels: RegisteredKernels | undefined;
  /** For wasm: whether SIMD and threads are on. */
  readonly wasm?: {
    /** The SIMD build is in use. */
    readonly simd: boolean;
    /** The threaded build is in use (the page is cross-origin isolated). */
    readonly threads: boolean;
  };
  /** Backends passed over, with the reason. */
  readonly skipped: ReadonlyArray<{
    /** The backend's name, as in `prefer`. */
    readonly backend: string;
    /** Why it was passed over: not registered, not installed, failed to initialise, timed out. */
    readonly reason: string;
  }>;
  /** One line for a log. */
  readonly description: string;
}

const TIMED_OUT = Symbol('timed out');

/** `promise`, or {@link TIMED_OUT} after `ms`; the timer never outlives the race. */
const within = async <A>(promise: Promise<A>, ms: number): Promise<A | typeof TIMED_OUT> => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([promise, new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(() => resolve(TIMED_OUT), ms)))]);
  } finally {
    clearTimeout(timer);
  }
};

/**
 * After an initialisation that never settled, tfjs keeps it as pending, and every later tensor
 * operation throws "Backend ... has not yet been initialized" whatever backend is set. tfjs's own
 * `removeBackend` and `reset` make a pending init obsolete the same way: a newer id, and no
 * pending promise (tfjs-core engine.ts). If the abandoned init settles later, tfjs ignores it.
 */
const abandonPendingInit = (): void => {
  const engine = tf.engine() as unknown as { pendingBackendInit: unknown; pendingBackendInitId: number };
  engine.pendingBackendInitId++;
  engine.pendingBackendInit = null;
};

/** Sets `name` as the backend, or says why not; a backend that takes longer than `timeoutMs` is abandoned. */
const trySetBackend = async (name: string, timeoutMs: number): Promise<string | undefined> => {
  let outcome: boolean | typeof TIMED_OUT;
  try {
    outcome = await within(tf.setBackend(name), timeoutMs);
  } catch (thrown) {
    return `failed to initialise: ${(thrown as Error).message}`;
  }
  if (outcome === TIMED_OUT) {
    abandonPendingInit();
    return `did not initialise within ${timeoutMs} ms (options.initTimeoutMs)`;
  }
  return outcome ? undefined : 'failed to initialise';
};

/** The wasm module imported (or the app's) and its binaries' location set; or why wasm cannot be tried. */
const prepareWasm = async (module: WasmModule | undefined, paths: WasmPaths | undefined, allowImport: boolean): Promise<string | undefined> => {
  const load = await loadWasmModule(module, paths !== undefined, allowImport);
  if (load.problem !== undefined) return load.problem;
  if (paths === undefined || load.module === undefined || tf.findBackend('wasm') !== null) return undefined;
  try {
    load.module.setWasmPaths(paths as string | Record<string, string>);
    return undefined;
  } catch (thrown) {
    return `options.wasmPaths could not be set: ${(thrown as Error).message}`;
  }
};

/**
 * tfjs catches a failed wasm initialisation itself and only logs why (a console warning). In a
 * browser the usual cause is binaries that are not served where tfjs-backend-wasm looks.
 */
const wasmHint = (reason: string, paths: WasmPaths | undefined): string =>
  reason === 'failed to initialise'
    ? `${reason} (tfjs logged the cause as a warning; in a browser it is usually the .wasm binaries not being served ${paths === undefined ? 'next to the page: set options.wasmPaths' : 'at options.wasmPaths'})`
    : reason;

/**
 * Selects the fastest tfjs backend available and registers transferkit's kernel pack for it.
 *
 * A backend the app has already set, other than the `cpu` fallback, is kept. Otherwise the first
 * of `prefer` that is registered and initialises is used: in Node that is `wasm` when
 * `@tensorflow/tfjs-backend-wasm` is installed (it is imported on demand), else `cpu`; in a
 * browser, `webgl` or `webgpu` when the app imported them. Each backend passed over is reported
 * with its reason: a package that is absent is told apart from one that is installed but cannot be
 * imported by name (a browser) or cannot initialise (e.g. its `.wasm` files are not served).
 *
 * Every initialisation is bounded by `options.initTimeoutMs`: a backend that never settles (as
 * tfjs-backend-wasm's threads can in a page) is passed over, and tfjs stays usable.
 *
 * In a bundled app, wasm needs two options: the module (`wasmModule`) and where its binaries are
 * served (`wasmPaths`), e.g. with the three `.wasm` files copied to `/wasm/`:
 * `setupBackend({ prefer: ['wasm', 'cpu'], wasmModule: wasm, wasmPaths: '/wasm/' })`, where `wasm`
 * is `import * as wasm from '@tensorflow/tfjs-backend-wasm'`. docs/browser.md has the Vite and
 * webpack recipes.
 *
 * @example
 * ```ts
 * import { setupBackend } from 'transferkit/tfjs';
 * import '@tensorflow/tfjs-backend-cpu';
 *
 * const choice = await setupBackend({ prefer: ['cpu'] })();
 * if (choice._tag === 'Right') console.log(choice.right.description);
 * ```
 * @function
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
    const paths = checkWasmPaths(options.wasmPaths);
    if (E.isLeft(paths)) return paths;
    const wasmModule = checkWasmModule(options.wasmModule);
    if (E.isLeft(wasmModule)) return wasmModule;
    const timeout = options.initTimeoutMs === undefined ? E.right(BACKEND_INIT_TIMEOUT_MS) : positiveInteger('options.initTimeoutMs', options.initTimeoutMs);
    if (E.isLeft(timeout)) return timeout;
    const skipped: Array<{ backend: string; reason: string }> = [];
    try {
      const current = tf.engine().backendName as string | null | undefined;
      let chosen: string | undefined;
      if (options.prefer === undefined && current != null && current !== 'cpu') {
        chosen = current;
      } else {
        for (const name of prefer) {
          if (name === 'wasm') {
            const problem = await prepareWasm(wasmModule.right, paths.right, options.loadWasm !== false);
            if (problem !== undefined) {
              skipped.push({ backend: name, reason: problem });
              continue;
            }
          }
          if (tf.findBackendFactory(name) === null && tf.findBackend(name) === null) {
            skipped.push({ backend: name, reason: 'not registered (its package is not imported)' });
            continue;
          }
          const problem = await trySetBackend(name, timeout.right);
          if (problem !== undefined) {
            skipped.push({ backend: name, reason: name === 'wasm' ? wasmHint(problem, paths.right) : problem });
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
        wasm === undefined ? undefined : `SIMD ${wasm.simd ? 'on' : 'off'}, threads ${wasm.threads ? 'on' : 'off'}`,
        kernels === undefined ? 'no transferkit kernels' : `transferkit kernels: ${kernels.kernels.join(', ')}`,
      ].filter((d) => d !== undefined);
      const description = `tfjs backend '${chosen}' (${details.join('; ')})${skipped.length > 0 ? `; passed over ${skipped.map((s) => `${s.backend} (${s.reason})`).join(', ')}` : ''}`;
      return E.right({ backend: chosen, kernels, ...(wasm === undefined ? {} : { wasm }), skipped, description });
    } catch (thrown) {
      return E.left(backendFailure('choosing a backend', thrown));
    }
  },
);
