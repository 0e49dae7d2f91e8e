/**
 * Every code example in the documentation runs: the ```ts blocks under `@example` in TSDoc
 * comments in src/, and every ```ts block in README.md and docs/*.md. Each is written to a file,
 * type-checked with the project's settings, then imported (so it runs) — docs cannot drift from
 * the code without a test failing.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const out = join(root, '.tmp', 'doc-examples');
const run = promisify(execFile);

interface Block {
  readonly where: string;
  readonly code: string;
}

const walk = (dir: string, ext: RegExp): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path, ext) : ext.test(name) ? [path] : [];
  });

const lineOf = (text: string, index: number): number => text.slice(0, index).split('\n').length;

/** ```ts blocks that follow an `@example` tag inside a /** … *\/ comment. */
const tsdocBlocks = (path: string): Block[] => {
  const text = readFileSync(path, 'utf8');
  return [...text.matchAll(/\/\*\*[\s\S]*?\*\//g)].flatMap((comment) => {
    const lines = comment[0].split('\n').map((l) => l.replace(/^\s*\*( |$)/, ''));
    const body = lines.join('\n');
    const at = body.indexOf('@example');
    if (at < 0) return [];
    return [...body.slice(at).matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => ({
      where: `${relative(root, path)}:${lineOf(text, comment.index)}`,
      code: m[1]!,
    }));
  });
};

/** Every ```ts block of a markdown file. */
const markdownBlocks = (path: string): Block[] => {
  const text = readFileSync(path, 'utf8');
  return [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => ({ where: `${relative(root, path)}:${lineOf(text, m.index)}`, code: m[1]! }));
};

const docs = [join(root, 'README.md'), ...(existsSync(join(root, 'docs')) ? walk(join(root, 'docs'), /\.md$/) : [])];
const blocks: Block[] = [...walk(join(root, 'src'), /\.ts$/).flatMap(tsdocBlocks), ...docs.flatMap(markdownBlocks)];
const fileOf = (i: number): string => join(out, `example-${String(i).padStart(3, '0')}.ts`);

beforeAll(() => {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  blocks.forEach((b, i) => writeFileSync(fileOf(i), `// ${b.where}\n${b.code}\nexport {};\n`));
  writeFileSync(join(out, 'tsconfig.json'), JSON.stringify({ extends: '../../tsconfig.json', include: ['*.ts'] }));
});

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('documentation code blocks', () => {
  it('are found in the TSDoc of src and in the markdown docs', () => {
    expect(blocks.filter((b) => b.where.startsWith('src')).length).toBeGreaterThanOrEqual(10);
    expect(blocks.some((b) => b.where.startsWith('README.md'))).toBe(true);
  });

  it('type-check with the project settings', async () => {
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    const result = await run(process.execPath, [tsc, '-p', join(out, 'tsconfig.json')], { cwd: root }).catch(
      (e: { stdout: string }) => e,
    );
    expect('stdout' in result ? result.stdout : '').toBe('');
  }, 120_000);

  it.each(blocks.map((b, i) => [b.where, i] as const))('%s runs', async (_, i) => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      await import(pathToFileURL(fileOf(i)).href);
    } finally {
      log.mockRestore();
    }
  });
});
