import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests and examples import the package by name, as an app would; here it resolves to src.
    alias: [
      { find: /^transferkit\/tfjs\/graph$/, replacement: src('./src/backends/tfjs/graphModel/index.ts') },
      { find: /^transferkit\/tfjs\/threads$/, replacement: src('./src/backends/tfjs/threads/index.ts') },
      { find: /^transferkit\/tfjs$/, replacement: src('./src/backends/tfjs/index.ts') },
      { find: /^transferkit\/node$/, replacement: src('./src/node/index.ts') },
      { find: /^transferkit$/, replacement: src('./src/index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
