import { defineConfig } from 'tsup';

// Five entry points: `transferkit` (no tensor library), `transferkit/tfjs` (the backend),
// `transferkit/tfjs/graph` (GraphModel backbones: the one that needs tfjs-converter),
// `transferkit/tfjs/threads` (Node only: embedding in worker threads; its worker is its own file)
// and `transferkit/node` (what needs Node built-ins, e.g. spilling caches to disk).
// Peer dependencies (fp-ts, @tensorflow/*) stay external so an app keeps one copy of each.
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    tfjs: 'src/backends/tfjs/index.ts',
    'tfjs-graph': 'src/backends/tfjs/graphModel/index.ts',
    'tfjs-threads': 'src/backends/tfjs/threads/index.ts',
    'tfjs-threads-worker': 'src/backends/tfjs/threads/worker.ts',
    node: 'src/node/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  treeshake: true,
  target: 'es2022',
  platform: 'neutral',
});
