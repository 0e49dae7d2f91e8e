/**
 * The Vite and webpack recipes of docs/browser.md, tested as an app would use them: the package as
 * built by tsup (package.json + dist) in a fresh app's node_modules, bundled by each bundler for
 * production, served, and opened in headless Chromium, where wasm must load its binaries from where
 * the bundler put them.
 */
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveDirectory } from '../../scripts/browser/serve';
import { collectErrors, launch, screenshotOnFailure } from './support';

const root = fileURLToPath(new URL('../..', import.meta.url));
const apps = fileURLToPath(new URL('./apps/', import.meta.url));
const run = promisify(execFile);
const app = mkdtempSync(join(tmpdir(), 'transferkit-bundlers-'));
const peers = ['fp-ts', '@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-cpu'];
let browser: Browser;

beforeAll(async () => {
  const pkg = join(app, 'node_modules', 'transferkit');
  await run(process.execPath, [join(root, 'node_modules/tsup/dist/cli-default.js'), '--out-dir', join(pkg, 'dist')], { cwd: root });
  cpSync(join(root, 'package.json'), join(pkg, 'package.json'));
  for (const peer of peers) {
    mkdirSync(join(app, 'node_modules', peer, '..'), { recursive: true });
    symlinkSync(join(root, 'node_modules', peer), join(app, 'node_modules', peer), 'dir');
  }
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  copyFileSync(join(apps, 'report.js'), join(app, 'report.js'));
  browser = await launch();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  rmSync(app, { recursive: true, force: true });
});

/** Opens the built app and returns what it wrote: the backend, one sum computed on it, and its description. */
const outcome = async (directory: string): Promise<{ text: string; errors: string[] }> => {
  const served = await serveDirectory(directory);
  const page = await browser.newPage();
  const errors = collectErrors(page);
  try {
    let text = '';
    await screenshotOnFailure(page, `bundler-${directory.split('/').at(-1)}`, async () => {
      await page.goto(served.url);
      await page.waitForFunction(`document.getElementById('out').textContent !== 'starting'`, undefined, { timeout: 30_000 });
      text = (await page.textContent('#out')) ?? '';
    });
    return { text, errors };
  } finally {
    await page.close();
    await served.close();
  }
};

/** Builds `apps/<appFile>` (with apps/index.html) with Vite for production into `<outName>`; returns the directory. */
const viteBuild = async (appFile: string, outName: string): Promise<string> => {
  copyFileSync(join(apps, appFile), join(app, 'main.js'));
  copyFileSync(join(apps, 'index.html'), join(app, 'index.html'));
  const { build } = await import('vite');
  const outDir = join(app, outName);
  await build({ root: app, logLevel: 'error', configFile: false, build: { outDir, emptyOutDir: true } });
  return outDir;
};

describe('wasm in a bundled app, with the documented recipe', () => {
  it('Vite: ?url imports of the three binaries', { timeout: 120_000 }, async () => {
    const { text, errors } = await outcome(await viteBuild('vite.js', 'vite-dist'));
    expect(text).toMatch(/^wasm: 4,6; tfjs backend 'wasm' \(SIMD on, threads off; transferkit kernels: /);
    expect(errors).toEqual([]);
  });

  it('without the recipe, says wasm could not be imported by name (not that it is missing) and falls back as asked', { timeout: 120_000 }, async () => {
    const { text, errors } = await outcome(await viteBuild('bare.js', 'vite-bare-dist'));
    expect(text).toMatch(/^cpu: 4,6; .*passed over wasm \(@tensorflow\/tfjs-backend-wasm could not be imported by name here .*pass it as options\.wasmModule, with options\.wasmPaths\)/);
    expect(text).not.toContain('not installed');
    expect(errors).toEqual([]);
  });

  it('webpack 5: new URL(…, import.meta.url) for the three binaries', { timeout: 120_000 }, async () => {
    copyFileSync(join(apps, 'webpack.js'), join(app, 'main.js'));
    const { default: webpack } = await import('webpack');
    const outDir = join(app, 'webpack-dist');
    const stats = await new Promise<import('webpack').Stats>((resolve, reject) =>
      webpack(
        { mode: 'production', context: app, entry: './main.js', output: { path: outDir, filename: 'main.js' }, performance: { hints: false }, resolve: { symlinks: true } },
        (error, result) => (error !== null && error !== undefined ? reject(error) : resolve(result!)),
      ),
    );
    expect(stats.toJson({ errors: true }).errors ?? []).toEqual([]);
    writeFileSync(join(outDir, 'index.html'), '<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"></head><body><pre id="out">starting</pre><script src="./main.js"></script></body></html>');
    const { text, errors } = await outcome(outDir);
    expect(text).toMatch(/^wasm: 4,6; tfjs backend 'wasm' \(SIMD on, threads off; transferkit kernels: /);
    expect(errors).toEqual([]);
  });
});
