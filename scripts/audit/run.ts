/**
 * `npm run audit`: the boundary audit. Runs every case of cases.ts against the built package
 * (`npm run build` first), each in a process of its own with a timeout, two at a time, and prints
 * a line per case and the count of good ones. `npm run audit -- <text>` runs the cases whose id
 * contains the text. A case is good when the entry point returned a clear `Left` or a `Right` with
 * finite numbers, within its timeout, without throwing and without leaking a tensor.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CASES, type Case } from './cases';

const filter = process.argv[2];
const chosen = CASES.filter((c) => filter === undefined || c.id.includes(filter));
const here = fileURLToPath(new URL('./case.ts', import.meta.url));

const runOne = (c: Case): Promise<{ good: boolean; detail: string; ms: number }> =>
  new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', here, c.id], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (err += b));
    const timer = setTimeout(() => child.kill('SIGKILL'), (c.timeout ?? 30) * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const ms = performance.now() - started;
      const line = out.trim().split('\n').pop() ?? '';
      try {
        resolve({ ...(JSON.parse(line) as { good: boolean; detail: string }), ms });
      } catch {
        const why = signal === 'SIGKILL' ? `no answer within ${c.timeout ?? 30} s (a hang)` : `the process ended (code ${code}): ${err.trim().split('\n').slice(-2).join(' ')}`;
        resolve({ good: false, detail: why, ms });
      }
    });
  });

const results: Array<{ c: Case; good: boolean; detail: string; ms: number }> = [];
let next = 0;
const worker = async (): Promise<void> => {
  while (next < chosen.length) {
    const c = chosen[next++]!;
    const r = await runOne(c);
    results.push({ c, ...r });
    console.log(`${r.good ? 'good' : 'BAD '}  #${String(c.item).padEnd(2)} ${c.id.padEnd(44)} ${(r.ms / 1000).toFixed(1).padStart(5)} s  ${r.detail.slice(0, 160)}`);
  }
};
await Promise.all([worker(), worker()]);
const good = results.filter((r) => r.good).length;
console.log(`\n${good} of ${results.length} good`);
process.exitCode = good === results.length ? 0 : 1;
