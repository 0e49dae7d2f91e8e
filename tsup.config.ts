import { defineConfig } from 'tsup';

// Three entry points: `transferkit` (no tensor library), `transferkit/tfjs` (the backend) and
// `transferkit/node` (what needs Node built-ins, e.g. spilling caches to disk).
// Peer dependencies (fp-ts, @tensorflow/*) stay external so an app keeps one copy of each.
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    tfjs: 'src/backends/tfjs/index.ts',
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
