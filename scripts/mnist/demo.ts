/**
 * `npm run demo`: a short version of the MNIST transfer study on built-in data. A CNN trained on
 * digits 0–4 (committed) transfers to digits 5–9, unchanged and with pixels permuted, at 5, 20 and
 * 100 labelled images per digit: a from-scratch baseline, the four strategies and selectStrategy's
 * pick, scored on 500 held-out images. Prints a table and writes a chart to demo-output/.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { either as E } from 'fp-ts';
import { setupBackend } from 'transferkit/tfjs';
import type { DomainName } from './data';
import { studyChart } from './chart';
import { loadSourceModel } from './sourceModel';
import { METHODS, runCell, type CellResult } from './study';

const DOMAINS: ReadonlyArray<DomainName> = ['unchanged', 'permuted'];
const SIZES = [5, 20, 100];
const OUT = resolve('demo-output');

const started = performance.now();
const choice = await setupBackend()();
if (E.isLeft(choice)) throw new Error(choice.left.message);
console.log(`transferkit demo: MNIST digits 0–4 → 5–9 — ${choice.right.description.split(';')[0]})`);
const source = await loadSourceModel();

const total = DOMAINS.length * SIZES.length * METHODS.length;
let done = 0;
const bar = (label: string): void => {
  const width = 30;
  const filled = Math.round((done / total) * width);
  const elapsed = ((performance.now() - started) / 1000).toFixed(0);
  process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} runs, ${elapsed} s  ${label.padEnd(40)}`);
};

const cells: CellResult[] = [];
for (const domain of DOMAINS) {
  for (const perDigit of SIZES) {
    bar(`${domain}, ${perDigit} per digit`);
    cells.push(
      await runCell(source, { domain, perDigit, seed: 0 }, METHODS, (r) => {
        done++;
        bar(`${domain}, ${perDigit} per digit: ${r.method}`);
      }),
    );
  }
}
process.stderr.write('\n');
source.dispose();

const pct = (a: number): string => `${(100 * a).toFixed(1)}`.padStart(5);
console.log('\nTest accuracy (%) on 500 held-out target images; one seed. "gain" is the best strategy minus scratch.');
console.log(`${'domain'.padEnd(10)} ${'per digit'.padStart(9)} ${'similarity'.padStart(10)} │ ${METHODS.map((m) => m.padStart(9).slice(-9)).join(' ')} │ pick${' '.repeat(15)} gain`);
for (const c of cells) {
  const acc = (m: string) => c.results.find((r) => r.method === m)!;
  const strategies = c.results.filter((r) => r.method !== 'scratch' && r.method !== 'selector');
  const gain = Math.max(...strategies.map((r) => r.accuracy)) - acc('scratch').accuracy;
  const pick = acc('selector').ran;
  console.log(
    `${c.domain.padEnd(10)} ${String(c.perDigit).padStart(9)} ${c.similarity.toFixed(3).padStart(10)} │ ${METHODS.map((m) => pct(acc(m).accuracy).padStart(9)).join(' ')} │ ${pick.padEnd(19)} ${gain >= 0 ? '+' : ''}${(100 * gain).toFixed(1)}${gain < 0 ? '  (negative transfer)' : ''}`,
  );
}

mkdirSync(OUT, { recursive: true });
const chart = resolve(OUT, 'accuracy-by-size.svg');
writeFileSync(chart, studyChart(cells, 'MNIST transfer (source: digits 0–4): test accuracy by target size'));
writeFileSync(resolve(OUT, 'results.json'), JSON.stringify(cells, null, 2));
console.log(`\nChart: ${chart}\nResults: ${resolve(OUT, 'results.json')}`);
console.log(`Done in ${((performance.now() - started) / 1000).toFixed(0)} s (tensors left: ${tf.memory().numTensors}).`);
