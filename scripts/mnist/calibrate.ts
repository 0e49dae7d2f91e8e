/**
 * `npm run calibrate:first`: the first MNIST study grid (issue 5; the grid of #16 is `npm run calibrate`) — 4 target domains × 4 sizes (5, 20, 100 and
 * 600 labelled images per digit, all the training range holds) × 3 seeds — with the from-scratch
 * recipe, the four strategies and selectStrategy's pick in every cell, and the regret of the
 * selector and of every fixed choice. Writes
 * docs/results/calibration-mnist.md (the table, with the date, machine and command) and
 * docs/results/calibration-mnist.json (every run) and docs/results/calibration-mnist.svg (the chart).
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { either as E } from 'fp-ts';
import {
  FINE_TUNE_EPOCHS,
  FINE_TUNE_LEARNING_RATE_FACTOR,
  PARTIAL_FINE_TUNE_LEARNING_RATE_FACTOR,
  FINE_TUNE_MIN_STEPS,
  HEAD_EPOCHS,
  HEAD_LEARNING_RATE,
  HEAD_MIN_STEPS,
  SCRATCH_LEARNING_RATE,
  SCRATCH_MIN_STEPS,
} from 'transferkit';
import { setupBackend } from 'transferkit/tfjs';
import { DOMAINS } from './data';
import { studyChart } from './chart';
import { loadSourceModel } from './sourceModel';
import { METHODS, runCell, type CellResult, type Method } from './study';

const SIZES = [5, 20, 100, 600];
const SEEDS = [0, 1, 2];
const STRATEGIES: ReadonlyArray<Method> = ['feature-extractor', 'earlier-layer-tap', 'partial-fine-tune', 'full-fine-tune'];
/** What the selector can pick from: not transferring, or one of the four strategies. */
const CHOICES: ReadonlyArray<Method> = ['from-scratch', ...STRATEGIES];

const JSON_OUT = new URL('../../docs/results/calibration-mnist.json', import.meta.url);
const started = performance.now();
const choice = await setupBackend()();
if (E.isLeft(choice)) throw new Error(choice.left.message);
const source = await loadSourceModel();
const cells: CellResult[] = [];
const total = DOMAINS.length * SIZES.length * SEEDS.length;
for (const domain of DOMAINS) {
  for (const perDigit of SIZES) {
    for (const seed of SEEDS) {
      cells.push(await runCell(source, { domain, perDigit, seed }));
      // Every run so far, in case a long grid is stopped part way.
      writeFileSync(JSON_OUT, `${JSON.stringify(cells, null, 1)}\n`);
      const minutes = ((performance.now() - started) / 60_000).toFixed(1);
      process.stderr.write(`\r${cells.length}/${total} cells, ${minutes} min: ${domain}, ${perDigit} per digit, seed ${seed}      `);
    }
  }
}
process.stderr.write('\n');
source.dispose();

const stats = (xs: number[]) => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, xs.length - 1));
  return { mean, sd };
};
const pct = (v: number) => (100 * v).toFixed(1);
const lines: string[] = [];
/** Regret against the best of all five choices, and against the best transfer strategy alone. */
const regret: Record<string, number[]> = { selector: [], ...Object.fromEntries(CHOICES.map((s) => [s, []])) };
const transferRegret: Record<string, number[]> = { selector: [], ...Object.fromEntries(CHOICES.map((s) => [s, []])) };
for (const domain of DOMAINS) {
  for (const perDigit of SIZES) {
    const group = cells.filter((c) => c.domain === domain && c.perDigit === perDigit);
    const acc = (m: Method) => stats(group.map((c) => c.results.find((r) => r.method === m)!.accuracy));
    const ms = (m: Method) => stats(group.map((c) => c.results.find((r) => r.method === m)!.ms)).mean;
    const best = Math.max(...CHOICES.map((m) => acc(m).mean));
    const bestTransfer = Math.max(...STRATEGIES.map((m) => acc(m).mean));
    const picks = [...new Set(group.map((c) => c.results.find((r) => r.method === 'selector')!.ran))];
    for (const s of ['selector' as const, ...CHOICES]) {
      regret[s]!.push(best - acc(s).mean);
      transferRegret[s]!.push(bestTransfer - acc(s).mean);
    }
    const gain = acc('selector').mean - acc('from-scratch').mean;
    lines.push(
      `| ${domain} | ${perDigit} | ${stats(group.map((c) => c.similarity)).mean.toFixed(3)} | ${METHODS.map((m) => `${pct(acc(m).mean)} ± ${pct(acc(m).sd)} (${(ms(m) / 1000).toFixed(1)} s)`).join(' | ')} | ${picks.join(', ')} | ${gain >= 0 ? '+' : ''}${pct(gain)}${gain < 0 ? ' (negative transfer)' : ''} | ${pct(best - acc('selector').mean)} |`,
    );
  }
}
const summary = (name: string, key: string) =>
  `| ${name} | ${pct(stats(regret[key]!).mean)} | ${pct(Math.max(...regret[key]!))} | ${pct(stats(transferRegret[key]!).mean)} | ${pct(Math.max(...transferRegret[key]!))} |`;
const minutes = ((performance.now() - started) / 60_000).toFixed(1);
const doc = [
  '# Calibration grid: the MNIST transfer study',
  '',
  `Made by \`npm run calibrate:first\` (scripts/mnist/calibrate.ts; \`npm run calibrate\` until the grid of #16) on ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), ${choice.right.description.split(';')[0]}), tfjs ${tf.version_core}, in ${minutes} min. Every run is in calibration-mnist.json.`,
  '',
  `Source: the committed CNN trained on digits 0–4. Target: digits 5–9 in four domains; labelled images per digit as shown (each of 3 seeds takes its own slice of the 600 training images per digit while they fit; 600 uses them all); test: 500 held-out images. Cells: test accuracy in %, mean ± sd over the 3 seeds, and mean wall time. From scratch: the \`fromScratch\` recipe, run by \`transfer\` like the strategies: the source's architecture from seeded random weights, every layer trained, BatchNorm on batch statistics, ${FINE_TUNE_EPOCHS} epochs or at least ${SCRATCH_MIN_STEPS} steps of Adam ${SCRATCH_LEARNING_RATE}, batch 32. Strategies: the presets with the phase defaults of src/core/phases.ts (head: ${HEAD_EPOCHS} epochs or at least ${HEAD_MIN_STEPS} steps, Adam ${HEAD_LEARNING_RATE}; fine-tune: ${FINE_TUNE_EPOCHS} epochs or at least ${FINE_TUNE_MIN_STEPS} steps at ${FINE_TUNE_LEARNING_RATE_FACTOR}× that rate for the whole backbone, ${PARTIAL_FINE_TUNE_LEARNING_RATE_FACTOR}× for part of it). When the selector's pick is exactly a recipe the cell ran, the cell reuses that run (same recipe, same seed: the same model). Selector: \`selectStrategy\` with the cell's size and the similarity measured on 60 unlabelled target and 60 held-out source images per digit. Gain: selector − from scratch. Regret: the best of the five choices (from scratch or a strategy) − selector.`,
  '',
  `| domain | per digit | similarity | ${METHODS.join(' | ')} | selector picked | gain | regret |`,
  `|---|---|---|${METHODS.map(() => '---').join('|')}|---|---|---|`,
  ...lines,
  '',
  'Regret over the 16 cells (points of accuracy): the selector against always making one choice. The first two columns measure against the best of all five choices; the last two against the best of the four transfer strategies only, as if not transferring were not an option (there a negative regret means the choice beat every strategy).',
  '',
  '| policy | mean regret | worst regret | mean, strategies only | worst, strategies only |',
  '|---|---|---|---|---|',
  summary('selectStrategy', 'selector'),
  ...CHOICES.map((s) => summary(`always ${s}`, s)),
  '',
].join('\n');
writeFileSync(new URL('../../docs/results/calibration-mnist.md', import.meta.url), doc);
writeFileSync(
  new URL('../../docs/results/calibration-mnist.svg', import.meta.url),
  studyChart(cells, 'MNIST transfer (source: digits 0–4): test accuracy by target size, mean of 3 seeds'),
);
console.log(doc);
