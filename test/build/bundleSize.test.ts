/**
 * The size budget of the browser entries: both, everything exported, bundled as an app's bundler
 * would (minified, tree-shaken, tfjs and fp-ts external), within BUDGET_GZIP_BYTES gzip (its comment says why). A size is a property
 * of the code, not of the machine, so it is checked here; `npm run bench -- size` prints the detail.
 */
import { describe, expect, it } from 'vitest';
import { BUDGET_GZIP_BYTES, bundleBytes, CASES } from '../../bench/bundleSize';

describe('bundle size', () => {
  it(`both browser entries together stay within ${BUDGET_GZIP_BYTES / 1024} kB gzip`, { timeout: 60_000 }, async () => {
    const { gzipped } = await bundleBytes(CASES[0]!.source);
    expect(gzipped).toBeLessThanOrEqual(BUDGET_GZIP_BYTES);
  });

  it('no file of threads/ (where the step splitting and thread caching live) or node/ reaches a browser bundle', { timeout: 60_000 }, async () => {
    const { build } = await import('esbuild');
    const { resolve } = await import('node:path');
    const out = await build({
      stdin: { contents: "export * from 'transferkit'; export * from 'transferkit/tfjs';", resolveDir: resolve('.'), loader: 'ts' },
      bundle: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      metafile: true,
      alias: { 'transferkit/tfjs': resolve('src/backends/tfjs/index.ts'), transferkit: resolve('src/index.ts') },
      external: ['@tensorflow/*', 'fp-ts', 'fp-ts/*'],
      logLevel: 'silent',
    });
    const inputs = Object.keys(out.metafile.inputs);
    expect(inputs.filter((f) => f.includes('threads/') || f.includes('src/node/'))).toEqual([]);
  });
});
