/**
 * Getting `@tensorflow/tfjs-backend-wasm` ready before tfjs initialises it: the module itself (the
 * app's own import, or one made by name) and where its `.wasm` binaries are served from.
 *
 * In Node the package reads its binaries from its own `dist/`. In a browser they are fetched from
 * a URL; without `setWasmPaths` that URL is relative to the page, so a bundled app gets a 404 (or,
 * on a dev server that answers every path with index.html, "expected magic word 00 61 73 6d").
 */
import * as tf from '@tensorflow/tfjs-core';
import { invalidArgument, type TransferError } from '../../core/errors';
import { isRecord } from '../../core/boundary';
import { either as E } from 'fp-ts';

/** The package that provides the wasm backend. */
export const WASM_PACKAGE = '@tensorflow/tfjs-backend-wasm';

/** The three binaries tfjs-backend-wasm may fetch: plain, SIMD, and SIMD with threads. */
export const WASM_BINARIES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'] as const;

/** Where the `.wasm` binaries are served from: a URL prefix ending in `/`, or each binary's own URL. */
export type WasmPaths = string | { readonly [file in (typeof WASM_BINARIES)[number]]: string };

/** What transferkit uses of the `@tensorflow/tfjs-backend-wasm` module: `import * as wasm from '@tensorflow/tfjs-backend-wasm'`. */
export interface WasmModule {
  /** tfjs-backend-wasm's own setter for the binaries' location. */
  readonly setWasmPaths: (prefixOrFileMap: string | Record<string, string>, usePlatformFetch?: boolean) => void;
}

/** Checks `options.wasmPaths`: a non-empty prefix ending in '/', or a URL for each of the three binaries. */
export const checkWasmPaths = (value: unknown): E.Either<TransferError, WasmPaths | undefined> => {
  if (value === undefined) return E.right(undefined);
  if (typeof value === 'string') {
    return value.length > 0 && value.endsWith('/') ? E.right(value) : E.left(invalidArgument('options.wasmPaths', "a URL prefix ending in '/' (e.g. '/assets/')", value));
  }
  if (isRecord(value) && !Array.isArray(value)) {
    const map = value as Record<string, unknown>;
    const missing = WASM_BINARIES.filter((file) => typeof map[file] !== 'string' || (map[file] as string).length === 0);
    if (missing.length === 0) return E.right(value as WasmPaths);
    return E.left(invalidArgument('options.wasmPaths', `a URL for each of ${WASM_BINARIES.join(', ')} (missing: ${missing.join(', ')})`, value));
  }
  return E.left(invalidArgument('options.wasmPaths', "a URL prefix ending in '/', or a URL for each of the three .wasm files (or nothing)", value));
};

/** Checks `options.wasmModule`: the imported module, recognised by its `setWasmPaths`. */
export const checkWasmModule = (value: unknown): E.Either<TransferError, WasmModule | undefined> =>
  value === undefined
    ? E.right(undefined)
    : isRecord(value) && typeof value['setWasmPaths'] === 'function'
      ? E.right(value as unknown as WasmModule)
      : E.left(invalidArgument('options.wasmModule', `the ${WASM_PACKAGE} module (import * as wasm from '${WASM_PACKAGE}'), or nothing`, value));

/** The module, or why there is none. A bare specifier that cannot resolve is told apart from a package that is absent. */
export type WasmLoad = { readonly module: WasmModule | undefined; readonly problem?: undefined } | { readonly module?: undefined; readonly problem: string };

const firstLine = (thrown: unknown): string => (thrown instanceof Error ? thrown.message : String(thrown)).split('\n')[0]!;

/**
 * The wasm module to configure: the one the app passed, else an import by name. An import is only
 * needed to set paths or to register the backend; where the app registered it already and asked
 * for no paths, nothing is imported.
 */
export const loadWasmModule = async (given: WasmModule | undefined, needModule: boolean, allowImport: boolean): Promise<WasmLoad> => {
  if (given !== undefined) return { module: given };
  const registered = tf.findBackendFactory('wasm') !== null;
  if (registered && !needModule) return { module: undefined };
  if (!allowImport) {
    return registered
      ? { problem: `options.wasmPaths needs the module: pass it as options.wasmModule (import * as wasm from '${WASM_PACKAGE}')` }
      : { problem: `not registered (options.loadWasm is false and ${WASM_PACKAGE} is not imported)` };
  }
  try {
    // A computed specifier keeps bundlers from requiring the optional package at build time.
    const specifier = WASM_PACKAGE;
    return { module: (await import(/* @vite-ignore */ specifier)) as WasmModule };
  } catch (thrown) {
    const code = isRecord(thrown) ? thrown['code'] : undefined;
    const message = firstLine(thrown);
    // Node says the package is absent with ERR_MODULE_NOT_FOUND (ESM) or MODULE_NOT_FOUND (require).
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes(WASM_PACKAGE)) {
      return { problem: `${WASM_PACKAGE} is not installed (${message})` };
    }
    // A browser cannot resolve a bare specifier at run time: the package may well be installed.
    return {
      problem: `${WASM_PACKAGE} could not be imported by name here (${message}); in a bundled app, import it and pass it as options.wasmModule, with options.wasmPaths`,
    };
  }
};
