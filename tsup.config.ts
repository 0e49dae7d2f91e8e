import { defineConfig } from 'tsup';

// Two entry points: `transferkit` (no tensor library) and `transferkit/tfjs` (the backend).
// Peer dependencies (fp-ts, @tensorflow/*) stay external so an app keeps one copy of each.
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    tfjs: 'src/backends/tfjs/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  treeshake: true,
  target: 'es2022',
  platform: 'neutral',
});
