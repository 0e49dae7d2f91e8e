/**
 * The whole job against what a user would run instead: the pretrained MobileNetV2 of
 * scripts/pretrained/model.ts at 224², 1,000 MNIST digits (100 of each, resized to 224² RGB) to
 * train on and 500 held out, three jobs (bench/support/workloadJobs.ts) each run by
 * - transferkit on 1 thread and on every core (`withThreads`);
 * - tfjs `fit` with the frozen layers inside the model, on the same wasm backend and kernels;
 * - PyTorch as its tutorials teach it (a full forward pass over the frozen part every epoch) and as
 *   an expert writes it (the frozen part computed once under no_grad), on every core, from the same
 *   weights (bench/workload.py, skipped with a message when Debian's python3-torch is missing).
 * Every (job, implementation) pair runs in a process of its own, one after another, so its peak
 * resident memory is its own and nothing else runs beside it. The slowest anchors run fewer epochs
 * (and `fit` 200 of the images) and are scaled: those rows say so.
 *
 * Reports wall time per job and its ratio to each anchor, the embedding rate of the caching pass,
 * peak memory, and time to accuracy: for (a) and (b), when transferkit and PyTorch's expert loop
 * first reach the same held-out accuracy (the lower of the two sides' best); and, from one more
 * process each, where the kernel time of jobs (b) and (c) goes on one thread (one epoch under
 * tf.profile): the two jobs whose goals are missed.
 *
 * Run: npm run bench -- workload (25 to 90 min on 2 cores, by the machine). Results go to
 * docs/results/workload.json after each row; WORKLOAD_RESUME=1 keeps the rows already there.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { take } from '../scripts/mnist/data';
import { loadMobileNetV2 } from '../scripts/pretrained/model';
import { exportKeras } from './support/exportKeras';
import { WORKLOAD_JOBS, type JobName, type JobResult } from './support/workloadJobs';

const DIGITS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] as const;
const TRAIN_PER_DIGIT = 100;
const VAL_PER_DIGIT = 50;
const FIT_IMAGES = 200;
const RESULTS = fileURLToPath(new URL('../docs/results/workload.json', import.meta.url));

type Implementation = 'transferkit-1' | 'transferkit-N' | 'fit' | 'pytorch-expert' | 'pytorch-tutorial';

interface Row {
  readonly job: JobName;
  readonly implementation: Implementation;
  /** Epochs run; the job's own when not scaled. */
  readonly epochs: number;
  /** Training images, when fewer than all (`fit` on job c). */
  readonly trainImages?: number;
}

interface Measured extends Row {
  readonly result: JobResult | { readonly error: string };
  /** The full job's seconds: measured, or scaled from the epochs run. */
  readonly seconds?: number;
  readonly scaled?: string;
}

const threads = availableParallelism();

/** What runs: every job by each implementation, the slow anchors for fewer epochs or images. */
const ROWS: ReadonlyArray<Row> = (['a', 'b', 'c'] as const).flatMap((job): Row[] => {
  const full = WORKLOAD_JOBS[job].epochs;
  const rows: Row[] = [
    { job, implementation: 'transferkit-1', epochs: full },
    { job, implementation: 'transferkit-N', epochs: full },
    { job, implementation: 'pytorch-expert', epochs: full },
  ];
  // tfjs fit runs about 6 images/s here: 2 epochs on 200 images, scaled.
  rows.push({ job, implementation: 'fit', epochs: 2, trainImages: FIT_IMAGES });
  if (job !== 'c') rows.push({ job, implementation: 'pytorch-tutorial', epochs: 2 });
  return rows;
});

const label = (implementation: Implementation): string =>
  implementation === 'transferkit-N' ? `transferkit, ${threads} threads` : implementation === 'transferkit-1' ? 'transferkit, 1 thread' : implementation === 'fit' ? 'tfjs fit (wasm + kernels)' : implementation === 'pytorch-expert' ? `PyTorch expert (${threads} threads)` : `PyTorch tutorial (${threads} threads)`;

/** Writes the digits as float32 pixels and int32 labels, as workloadJob.ts and workload.py read them. */
const writeDigits = (dir: string): void => {
  for (const [name, from, perDigit] of [['train', 0, TRAIN_PER_DIGIT], ['val', TRAIN_PER_DIGIT, VAL_PER_DIGIT]] as const) {
    const set = take(DIGITS, from, perDigit);
    writeFileSync(join(dir, `${name}_x.bin`), set.x);
    writeFileSync(join(dir, `${name}_y.bin`), set.y);
  }
};

/** Runs one row in its own process. */
const runRow = (row: Row, dir: string, env: Record<string, string> = {}): JobResult | { error: string } => {
  const here = dirname(fileURLToPath(import.meta.url));
  try {
    const out = row.implementation.startsWith('pytorch')
      ? execFileSync('/usr/bin/python3', [join(here, 'workload.py'), dir, dir, row.job, row.implementation.slice('pytorch-'.length), String(threads), String(row.epochs)], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
          cwd: here,
        })
      : execFileSync(process.execPath, ['--import', 'tsx', join(here, 'support', 'workloadJob.ts'), dir, row.job, row.implementation === 'transferkit-N' ? `transferkit-${threads}` : row.implementation, String(row.epochs)], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { ...process.env, ...env, ...(row.trainImages === undefined ? {} : { TRAIN_IMAGES: String(row.trainImages) }) },
          maxBuffer: 1 << 24,
        });
    return JSON.parse(out.trim().split('\n').at(-1)!) as JobResult;
  } catch (error) {
    const e = error as Error & { stderr?: string };
    const lines = (e.stderr ?? e.message).trim().split('\n').filter((l) => l.length > 0 && l.length < 500);
    // The error's own line (e.g. "RuntimeError: memory access out of bounds"), else the last lines.
    const why = lines.find((l) => /^\w*Error\b/.test(l)) ?? lines.slice(-3).join(' | ');
    return { error: row.implementation.startsWith('pytorch') && /No module named 'torch'|ENOENT/.test(why) ? `${why} (install it with: apt-get install python3-torch)` : why };
  }
};

/**
 * The full job's seconds. A row that ran every epoch is its last stamp. A row that ran fewer is its
 * first epoch plus the job's remaining epochs at the cost of its last one (so a first epoch's
 * start-up is counted once). `fit` on part of the images scales each epoch's training share by
 * the images left out and keeps its evaluation of the held-out set as measured.
 */
const fullSeconds = (row: Row, result: JobResult): { seconds: number; scaled?: string } => {
  const job = WORKLOAD_JOBS[row.job];
  const total = TRAIN_PER_DIGIT * DIGITS.length;
  const share = row.trainImages === undefined ? 1 : total / row.trainImages;
  // Epoch i's seconds with its training scaled to all the images (its evaluation as measured).
  const cost = (i: number): number => {
    const e = result.epochs[i]!;
    const evalSeconds = e.evalSeconds ?? 0;
    return (e.seconds - (i === 0 ? 0 : result.epochs[i - 1]!.seconds) - evalSeconds) * share + evalSeconds;
  };
  if (row.epochs >= job.epochs && share === 1) return { seconds: result.epochs[job.epochs - 1]!.seconds };
  const seconds = cost(0) + (job.epochs - 1) * cost(result.epochs.length - 1);
  const images = share === 1 ? '' : ` on ${row.trainImages} images`;
  return { seconds, scaled: `${row.epochs} epochs${images}, scaled to ${job.epochs} × ${total} images` };
};

const fmt = (x: number, digits = 1): string => x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** Seconds at which a row's held-out accuracy first reaches `target`, if it does. */
const reaches = (result: JobResult, target: number): number | undefined => result.epochs.find((e) => e.accuracy >= target - 1e-9)?.seconds;

/** Where the time of jobs (b) and (c) goes on one thread: one epoch each under tf.profile (caching and steps together; (c) on 160 images). */
const PROFILED: ReadonlyArray<Row> = [
  { job: 'b', implementation: 'transferkit-1', epochs: 1 },
  // 20 steps of batch 8: an epoch of all 1,000 images under tf.profile exhausts the wasm heap
  // (the process aborts after about 6 min at 4 GB resident).
  { job: 'c', implementation: 'transferkit-1', epochs: 1, trainImages: 160 },
];

type Profiles = Partial<Record<JobName, JobResult | { error: string }>>;

const report = (measured: ReadonlyArray<Measured>, profiles: Profiles): void => {
  const find = (job: JobName, implementation: Implementation): Measured | undefined => measured.find((m) => m.job === job && m.implementation === implementation);
  const ok = (m: Measured | undefined): (Measured & { result: JobResult; seconds: number }) | undefined => (m !== undefined && !('error' in m.result) && m.seconds !== undefined ? (m as Measured & { result: JobResult; seconds: number }) : undefined);
  for (const job of ['a', 'b', 'c'] as const) {
    const spec = WORKLOAD_JOBS[job];
    console.log(`\n${spec.title}: ${spec.epochs} epochs, batch ${spec.batch}, Adam ${spec.learningRate}; ${DIGITS.length * TRAIN_PER_DIGIT} images to train, ${DIGITS.length * VAL_PER_DIGIT} held out`);
    const anchors = (['pytorch-tutorial', 'pytorch-expert', 'fit'] as const).filter((a) => ok(find(job, a)) !== undefined);
    console.log(`  ${'implementation'.padEnd(32)} ${'seconds'.padStart(9)} ${'peak MB'.padStart(8)} ${'best acc'.padStart(8)}  ${anchors.map((a) => `÷ ${label(a)}`).join('  ')}`);
    for (const m of measured.filter((x) => x.job === job)) {
      if ('error' in m.result) {
        console.log(`  ${label(m.implementation).padEnd(32)} did not run: ${m.result.error}`);
        continue;
      }
      const best = Math.max(...m.result.epochs.map((e) => e.accuracy));
      const ratios = anchors.map((a) => `${fmt(m.seconds! / ok(find(job, a))!.seconds, 2)}×`.padStart(6 + label(a).length - 4));
      console.log(`  ${label(m.implementation).padEnd(32)} ${fmt(m.seconds!).padStart(9)} ${fmt(m.result.peakMB, 0).padStart(8)} ${fmt(100 * best).padStart(7)}%  ${ratios.join('  ')}${m.scaled === undefined ? '' : `  (${m.scaled})`}`);
      for (const note of m.result.notes) console.log(`      ${note}`);
    }
  }
  console.log('\nTime to accuracy (transferkit against PyTorch expert; target: the lower of the two sides\' best held-out accuracy)');
  for (const job of ['a', 'b'] as const) {
    const pt = ok(find(job, 'pytorch-expert'));
    for (const impl of ['transferkit-1', 'transferkit-N'] as const) {
      const tk = ok(find(job, impl));
      if (tk === undefined || pt === undefined) continue;
      const target = Math.min(Math.max(...tk.result.epochs.map((e) => e.accuracy)), Math.max(...pt.result.epochs.map((e) => e.accuracy)));
      const [t, p] = [reaches(tk.result, target)!, reaches(pt.result, target)!];
      console.log(`  (${job}) ${fmt(100 * target)} %: ${label(impl)} ${fmt(t)} s, ${label('pytorch-expert')} ${fmt(p)} s (${fmt(t / p, 2)}×)`);
    }
  }
  console.log('\nEmbedding in the caching pass (1,500 images at 224² up to the cut, the first pass of the expert loops)');
  for (const job of ['a', 'b'] as const) {
    const pt = ok(find(job, 'pytorch-expert'));
    const images = DIGITS.length * (TRAIN_PER_DIGIT + VAL_PER_DIGIT);
    for (const impl of ['transferkit-1', 'transferkit-N'] as const) {
      const tk = ok(find(job, impl));
      if (tk?.result.cacheSeconds === undefined || pt?.result.cacheSeconds === undefined) continue;
      const [t, p] = [images / tk.result.cacheSeconds, images / pt.result.cacheSeconds];
      console.log(`  (${job}) ${label(impl)} ${fmt(t)} images/s, ${label('pytorch-expert')} ${fmt(p)} images/s: ${fmt(t / p, 2)}×`);
    }
  }
  for (const row of PROFILED) {
    const profile = profiles[row.job];
    if (profile === undefined) continue;
    console.log(`\nWhere the time goes: (${row.job}) ${label(row.implementation)}, ${row.epochs} epoch${row.trainImages === undefined ? '' : ` of ${row.trainImages} images`} under tf.profile`);
    if ('error' in profile) console.log(`  did not run: ${profile.error}`);
    else for (const note of profile.notes) console.log(`  ${note}`);
  }
};

export const run = async (): Promise<void> => {
  await tf.setBackend('cpu');
  const dir = mkdtempSync(join(tmpdir(), 'workload-'));
  const saved = process.env.WORKLOAD_RESUME === '1' && existsSync(RESULTS) ? (JSON.parse(readFileSync(RESULTS, 'utf8')) as { rows: Measured[]; profiles?: Profiles }) : undefined;
  const previous: Measured[] = saved?.rows ?? [];
  const measured: Measured[] = [];
  const profiles: Profiles = saved?.profiles ?? {};
  const save = (): void => {
    mkdirSync(dirname(RESULTS), { recursive: true });
    const rows = [...measured, ...previous.filter((p) => !measured.some((x) => x.job === p.job && x.implementation === p.implementation))];
    writeFileSync(RESULTS, `${JSON.stringify({ command: 'npm run bench -- workload', cores: threads, rows, profiles }, null, 1)}\n`);
  };
  try {
    writeDigits(dir);
    const source = await loadMobileNetV2();
    exportKeras(source, dir);
    source.dispose();
    for (const row of ROWS) {
      const kept = previous.find((p) => p.job === row.job && p.implementation === row.implementation && p.epochs === row.epochs && !('error' in p.result));
      let m: Measured;
      if (kept !== undefined) m = kept;
      else {
        const started = performance.now();
        console.log(`running (${row.job}) ${label(row.implementation)}, ${row.epochs} epoch(s)${row.trainImages === undefined ? '' : ` on ${row.trainImages} images`} ...`);
        const result = runRow(row, dir);
        m = { ...row, result, ...('error' in result ? {} : fullSeconds(row, result)) };
        console.log(`  done in ${fmt((performance.now() - started) / 1000)} s${'error' in result ? `: ${result.error}` : ''}`);
      }
      measured.push(m);
      save();
    }
    for (const row of PROFILED) {
      const kept = profiles[row.job];
      if (kept !== undefined && !('error' in kept)) continue;
      console.log(`profiling (${row.job}) ${label(row.implementation)}, ${row.epochs} epoch ...`);
      profiles[row.job] = runRow(row, dir, { WORKLOAD_PROFILE: '1' });
      save();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  report(measured, profiles);
};
