// The webpack 5 recipe of docs/browser.md: `new URL(…, import.meta.url)` emits each .wasm file as an asset.
import * as wasm from '@tensorflow/tfjs-backend-wasm';
import { setupBackend } from 'transferkit/tfjs';
import { report } from './report.js';

report(
  setupBackend({
    prefer: ['wasm'],
    wasmModule: wasm,
    wasmPaths: {
      'tfjs-backend-wasm.wasm': new URL('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm', import.meta.url).href,
      'tfjs-backend-wasm-simd.wasm': new URL('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm', import.meta.url).href,
      'tfjs-backend-wasm-threaded-simd.wasm': new URL('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm', import.meta.url).href,
    },
  }),
);
