/**
 * The API reference builds (`npm run docs:api`, TypeDoc) with no warning at all, undocumented
 * exports included (typedoc.json turns every warning into an error), and its modules are named
 * after the package's entry points.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'transferkit-api-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('the API reference', () => {
  it('builds with 0 warnings, every export documented, one module per entry point', { timeout: 180_000 }, async () => {
    const typedoc = join(root, 'node_modules/typedoc/bin/typedoc');
    const result = await promisify(execFile)(process.execPath, [typedoc, '--out', out], { cwd: root }).then(
      ({ stdout, stderr }) => ({ ok: true, text: stdout + stderr }),
      (failed: { stdout: string; stderr: string }) => ({ ok: false, text: failed.stdout + failed.stderr }),
    );
    expect(result.text).not.toMatch(/warning/i);
    expect(result.ok).toBe(true);
    for (const page of ['transferkit', 'transferkit_tfjs', 'transferkit_tfjs_graph', 'transferkit_tfjs_threads', 'transferkit_node']) {
      expect(existsSync(join(out, 'modules', `${page}.html`)), page).toBe(true);
    }
  });
});
