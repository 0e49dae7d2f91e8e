/**
 * Peak memory against dataset size: jobs (a) and (b) of the workload (bench/support/workloadJobs.ts)
 * on 1,000 and on 20,000 digits at 224² RGB, kept in disk row stores (`diskRowStore` from
 * transferkit/node) as stored inputs, their cached activations in a second disk store; each run
 * in a process of its own (bench/support/storedJob.ts), on every core (`withThreads`). 20,000
 * such images are 12 GB of floats: as one tensor they fit neither the 4 GB wasm heap nor, on a
 * laptop, memory. The epochs are cut (job (a) 3, job (b) 1): memory, not time, is measured here.
 *
 * Run: npm run bench -- flat (about 40 min on 2 cores). Results go to
 * docs/results/workload-memory.json after each run; a run already there is kept (delete the file
 * to measure again).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RESULTS = fileURLToPath(new URL('../docs/results/workload-memory.json', import.meta.url));
const SIZES = [1_000, 20_000] as const;
const RUNS = [
  { job: 'a', epochs: 3 },
  { job: 'b', epochs: 1 },
] as const;

interface Report {
  readonly job: string;
  readonly images: number;
  readonly epochs: number;
  readonly threads: number;
  readonly writeSeconds: number;
  readonly seconds: number;
  readonly cacheSeconds: number;
  readonly accuracy: number;
  readonly peakMB: number;
  readonly afterWriteMB: number;
  readonly storeGB: number;
}

const fmt = (x: number, digits = 1): string => x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

export const run = (): void => {
  const threads = availableParallelism();
  const here = dirname(fileURLToPath(import.meta.url));
  const done: Report[] = existsSync(RESULTS) ? (JSON.parse(readFileSync(RESULTS, 'utf8')) as { runs: Report[] }).runs : [];
  console.log(`Peak memory against dataset size: stored inputs and activations on disk, ${threads} threads (process peak RSS)`);
  for (const { job, epochs } of RUNS) {
    for (const images of SIZES) {
      let report = done.find((r) => r.job === job && r.images === images && r.epochs === epochs && r.threads === threads);
      if (report === undefined) {
        const out = execFileSync(process.execPath, ['--import', 'tsx', join(here, 'support', 'storedJob.ts'), job, String(images), String(epochs), String(threads)], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'inherit'],
          maxBuffer: 1 << 24,
        });
        report = JSON.parse(out.trim().split('\n').at(-1)!) as Report;
        done.push(report);
        mkdirSync(dirname(RESULTS), { recursive: true });
        writeFileSync(RESULTS, `${JSON.stringify({ command: 'npm run bench -- flat', date: new Date().toISOString().slice(0, 10), runs: done }, null, 2)}\n`);
      }
      console.log(
        `  job ${job}, ${String(images).padStart(6)} images (${fmt(report.storeGB)} GB stored): peak ${fmt(report.peakMB, 0)} MB (${fmt(report.afterWriteMB, 0)} MB after writing the store); ` +
          `${fmt(report.seconds)} s for ${epochs} epoch(s), caching ${fmt(report.cacheSeconds)} s; held-out accuracy ${fmt(100 * report.accuracy)} %`,
      );
    }
    const [small, large] = SIZES.map((images) => done.find((r) => r.job === job && r.images === images && r.epochs === epochs && r.threads === threads)!);
    console.log(`  job ${job}: peak at ${SIZES[1]} images ÷ at ${SIZES[0]}: ${fmt(large!.peakMB / small!.peakMB, 2)}× for ${SIZES[1] / SIZES[0]}× the data`);
  }
};
