/**
 * `npm run demo`: a short version of the MNIST transfer study on built-in data (about 2 minutes
 * on 2 cores). A CNN trained on digits 0–4 (committed in scripts/mnist/source/) transfers to digits
 * 5–9 in three cells: unchanged digits with 5 and with 100 labelled images per digit, and
 * pixel-permuted digits with 5. In each: a model trained from scratch, the four strategies,
 * selectStrategy's pick (from the gain of transfer measured on the training images) and the
 * validation race's (autoTransfer), scored on 500 held-out images. Prints a table, the selector's
 * warnings, and writes a chart and the raw results to demo-output/. The calibration grids:
 * `npm run calibrate` (issue #16) and `npm run calibrate:first`, docs/study.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { either as E } from 'fp-ts';
import { autoTransfer, DEFAULT_RACE_BUDGET, evaluate, selectStrategy } from 'transferkit';
import { fromLayersModel, setupBackend } from 'transferkit/tfjs';
import { studyChart } from './chart';
import { SIDE, TARGET_DIGITS } from './data';
import { loadSourceModel, SOURCE_TOP, unwrap } from './sourceModel';
import { cellSets, METHODS, runCell, type CellResult, type CellSpec } from './study';

const CELLS: ReadonlyArray<Omit<CellSpec, 'seed'>> = [
  { domain: 'unchanged', perDigit: 5 },
  { domain: 'unchanged', perDigit: 100 },
  { domain: 'permuted', perDigit: 5 },
];
const OUT = resolve('demo-output');

const started = performance.now();
const choice = await setupBackend()();
if (E.isLeft(choice)) throw new Error(choice.left.message);
console.log(`transferkit demo: MNIST digits 0–4 → 5–9, ${choice.right.description.split(';')[0]})`);
const source = await loadSourceModel();

/** Runs per cell: the five fixed choices, the selector's pick, and the race. */
const total = CELLS.length * (METHODS.length + 1);
let done = 0;
const bar = (label: string): void => {
  const width = 30;
  const filled = Math.round((done / total) * width);
  const elapsed = ((performance.now() - started) / 1000).toFixed(0);
  process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} runs, ${elapsed} s  ${label.padEnd(44)}`);
};

const cells: CellResult[] = [];
/** The race's pick in each cell: `autoTransfer` with the selector's pick as its prior and the default budget. */
const races: Array<{ winner: string; accuracy: number; reason: string; seconds: number }> = [];
const backbone = unwrap(fromLayersModel(source, SOURCE_TOP));
for (const { domain, perDigit } of CELLS) {
  bar(`${domain}, ${perDigit} per digit`);
  const cell = await runCell(source, { domain, perDigit, seed: 0 }, METHODS, (r) => {
    done++;
    bar(`${domain}, ${perDigit} per digit: ${r.method} done`);
  });
  cells.push(cell);
  bar(`${domain}, ${perDigit} per digit: the race`);
  const { train, test } = cellSets({ domain, perDigit, seed: 0 });
  const x = tf.tensor4d(train.x, [train.count, SIDE, SIDE, 1]);
  const testX = tf.tensor4d(test.x, [test.count, SIDE, SIDE, 1]);
  try {
    // The same pick the selector made in the cell: the measured gain with its interval.
    const similarity = { similarity: cell.transferGain ?? 0.5, ...(cell.transferGainInterval === undefined ? {} : { interval: cell.transferGainInterval }) };
    const prior = unwrap(selectStrategy({ size: train.count, similarity, classes: TARGET_DIGITS.length }));
    const raced = unwrap(await autoTransfer(backbone, { x, y: Array.from(train.y) }, { seed: 0, prior })());
    const accuracy = unwrap(await evaluate(raced.model, { x: testX, y: Array.from(test.y) }, TARGET_DIGITS.length)()).accuracy;
    raced.model.dispose();
    races.push({ winner: raced.race.winner, accuracy, reason: raced.race.reason, seconds: (raced.race.ms.timing + raced.race.ms.race + raced.race.ms.retrain) / 1000 });
  } finally {
    tf.dispose([x, testX]);
  }
  done++;
}
process.stderr.write('\n');
source.dispose();

const pct = (a: number): string => (100 * a).toFixed(1);
console.log('\nTest accuracy (%) on 500 held-out target images, one seed. Gain: the best strategy minus scratch.\n');
const header = ['domain', 'per digit', 'transfer gain', ...METHODS, 'race', 'selector picked', 'race picked', 'gain'];
const rows = cells.map((c, i) => {
  const of = (m: string) => c.results.find((r) => r.method === m)!;
  const strategies = c.results.filter((r) => r.method !== 'from-scratch' && r.method !== 'selector');
  const gain = Math.max(...strategies.map((r) => r.accuracy)) - of('from-scratch').accuracy;
  return [
    c.domain,
    String(c.perDigit),
    (c.transferGain ?? Number.NaN).toFixed(3),
    ...METHODS.map((m) => pct(of(m).accuracy)),
    pct(races[i]!.accuracy),
    of('selector').ran,
    races[i]!.winner,
    `${gain >= 0 ? '+' : ''}${pct(gain)}${gain < 0 ? ' negative transfer' : ''}`,
  ];
});
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cols: string[]) => cols.map((c, i) => (i < 1 || i >= header.length - 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
console.log(line(header));
console.log(widths.map((w) => '─'.repeat(w)).join('  '));
for (const r of rows) console.log(line(r));

console.log("\nWhat selectStrategy said, cell by cell (from the size and the transfer gain measured on the training images; it never sees the test set):");
for (const c of cells) {
  const pick = c.results.find((r) => r.method === 'selector')!;
  const warnings = pick.warnings ?? [];
  console.log(`- ${c.domain}, ${c.perDigit} per digit: ${pick.ran}${warnings.length === 0 ? '; no warnings.' : ''}`);
  for (const w of warnings) console.log(`    warning: ${w}`);
}

console.log(`\nWhat the race (autoTransfer, the selector's pick first, a budget of ${DEFAULT_RACE_BUDGET} full fine-tunes) decided, on validation folds of the training images alone:`);
cells.forEach((c, i) => console.log(`- ${c.domain}, ${c.perDigit} per digit: ${races[i]!.winner} in ${races[i]!.seconds.toFixed(1)} s. ${races[i]!.reason}`));

mkdirSync(OUT, { recursive: true });
const chart = resolve(OUT, 'accuracy-by-size.svg');
writeFileSync(chart, studyChart(cells, 'MNIST transfer (source: digits 0–4): test accuracy by target size, one seed'));
writeFileSync(resolve(OUT, 'results.json'), `${JSON.stringify(cells.map((c, i) => ({ ...c, race: races[i] })), null, 2)}\n`);
console.log(`\nChart: ${chart}\nResults: ${resolve(OUT, 'results.json')}`);
console.log('The full grid (4 domains × 4 sizes × 3 seeds) and what to take from it: docs/study.md (npm run calibrate:first; the grid of three sources and eight domains: npm run calibrate).');
console.log(`Done in ${((performance.now() - started) / 1000).toFixed(0)} s (tensors left: ${tf.memory().numTensors}).`);
