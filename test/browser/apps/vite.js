// The Vite recipe of docs/browser.md: `?url` imports give each .wasm file its built URL.
import * as wasm from '@tensorflow/tfjs-backend-wasm';
import plain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import simd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import threaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { setupBackend } from 'transferkit/tfjs';
import { report } from './report.js';

report(
  setupBackend({
    prefer: ['wasm'],
    wasmModule: wasm,
    wasmPaths: { 'tfjs-backend-wasm.wasm': plain, 'tfjs-backend-wasm-simd.wasm': simd, 'tfjs-backend-wasm-threaded-simd.wasm': threaded },
  }),
);
