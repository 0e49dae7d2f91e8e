import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

const sourceFiles = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : /\.(ts|tsx|js|mjs|cjs)$/.test(name) ? [path] : [];
  });

/** Module specifiers a file imports, statically, dynamically or with require (comments are not code). */
const importsOf = (source: string): string[] => {
  const text = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  return [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
};

const files = sourceFiles(join(root, 'src')).map((path) => ({
  path: relative(root, path).split('\\').join('/'),
  imports: importsOf(readFileSync(path, 'utf8')),
}));

/** The layer a file belongs to: core, selector, metrics, strategy, backends, or the entry point. */
const layerOf = (path: string): string => path.split('/')[1]!.replace(/\.ts$/, '');

describe('layering', () => {
  it('finds the import statements it checks (self-test of the scanner)', () => {
    expect(importsOf(`/**\n * import * as tf from '@tensorflow/in-a-comment';\n */\n// import 'commented-out';\nimport * as tf from '@tensorflow/tfjs-core';\nconst m = await import("@tensorflow/tfjs-layers");\nrequire('x');\nimport 'side';`)).toEqual([
      '@tensorflow/tfjs-core',
      '@tensorflow/tfjs-layers',
      'x',
      'side',
    ]);
    expect(files.length).toBeGreaterThan(10);
  });

  it('nothing outside src/backends imports @tensorflow/*', () => {
    const leaks = files.filter((f) => !f.path.startsWith('src/backends/') && f.imports.some((i) => i.startsWith('@tensorflow/')));
    expect(leaks.map((f) => f.path)).toEqual([]);
  });

  it('dependencies point one way: backends → strategy → metrics → core; selector → core only', () => {
    const allowed: Record<string, ReadonlyArray<string>> = {
      core: ['core'],
      selector: ['core', 'selector'],
      metrics: ['core', 'metrics'],
      strategy: ['core', 'metrics', 'strategy'],
      backends: ['core', 'strategy', 'backends'],
      node: ['core', 'node'],
      index: ['core', 'selector', 'metrics', 'strategy'],
    };
    const wrong = files.flatMap((f) => {
      const from = layerOf(f.path);
      return f.imports
        .filter((i) => i.startsWith('.'))
        .map((i) => relative(root, join(root, f.path, '..', i)).split('\\').join('/'))
        .filter((target) => !(allowed[from] ?? []).includes(layerOf(target)))
        .map((target) => `${f.path} → ${target}`);
    });
    expect(wrong).toEqual([]);
  });

  it('only the Node-only entry points import Node built-ins (src/node, src/backends/tfjs/threads): the others bundle for the browser', () => {
    const nodeOnly = files.filter((f) => f.imports.some((i) => i.startsWith('node:') || ['fs', 'path', 'os', 'worker_threads', 'process'].includes(i)));
    expect(nodeOnly.map((f) => f.path).filter((p) => !p.startsWith('src/node/') && !p.startsWith('src/backends/tfjs/threads/'))).toEqual([]);
    expect(nodeOnly.map((f) => f.path)).toContain('src/node/diskRowStore.ts');
    // The browser entry transferkit/tfjs must not reach the threads module.
    const tfjsEntry = files.find((f) => f.path === 'src/backends/tfjs/index.ts')!;
    expect(tfjsEntry.imports.filter((i) => i.includes('threads'))).toEqual([]);
  });
});
