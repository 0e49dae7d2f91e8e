/**
 * The domain-adaptation benchmark (`npm run adapt:bench`; docs/adaptation.md). The ten-digit
 * source (scripts/adapt/source/) adapts to five shifted targets (scripts/adapt/shifts.ts) with
 * every method of `adapt`, and self-training from each of them, over three seeds; each model is
 * scored on the held-out target test set, beside source-only and two oracles (the source
 * fine-tuned with the target's labels, and the architecture trained on them from scratch). For
 * each run it also records what unsupervised selection can see (scores on the unlabelled target
 * inputs), so selection rules are judged on the same runs.
 *
 * Resumable: each cell (target × seed) is written to docs/results/adaptation/<target>-<seed>.json
 * as it finishes and skipped when it exists. `-- --summary` prints the tables from the cells;
 * `-- --shifts a,b` runs only those targets (two processes can share the grid).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { either as E } from 'fp-ts';
import { adapt, ADAPT_METHODS, evaluate, fromScratch, fullFineTune, transfer, type AdaptMethod } from 'transferkit';
import { fromLayersModel, setupBackend } from 'transferkit/tfjs';
import { unwrap } from '../mnist/sourceModel';
import { cellFile, readCells, RESULTS, SEEDS, SELF_TRAINING_FROM, type Cell, type MethodRun, type RunName } from './cells';
import { candidateEvidence } from './evidence';
import { loadAdaptSource } from './sourceModel';
import { RANGES, SHIFTS, take, type ShiftName } from './shifts';

const tensor = (x: Float32Array, n: number): tf.Tensor4D => tf.tensor4d(x, [n, 28, 28, 1]);

const runCell = async (target: ShiftName, seed: number, backend: string): Promise<Cell> => {
  const model = await loadAdaptSource();
  const backbone = unwrap(fromLayersModel(model, { top: 'features' }));
  const source = take(RANGES.sourceTrain);
  const adaptSet = take(RANGES.targetAdapt, target);
  const test = take(RANGES.targetTest, target);
  const [sx, tx, vx] = [tensor(source.x, source.count), tensor(adaptSet.x, adaptSet.count), tensor(test.x, test.count)];
  const runs: MethodRun[] = [];
  let sourceOnly: Float32Array | undefined;
  try {
    const jobs: ReadonlyArray<readonly [RunName, AdaptMethod, AdaptMethod | undefined]> = [
      ...ADAPT_METHODS.map((m) => [m, m, undefined] as const),
      ...SELF_TRAINING_FROM.map((m) => [`${m}+self-training`, 'pseudo-label', m] as const),
    ];
    for (const [method, run, from] of jobs) {
      const started = performance.now();
      const adapted = unwrap(await adapt(backbone, run, { target: { x: tx }, source: { x: sx, y: source.y } }, { seed, ...(from === undefined ? {} : { from }) })());
      const ms = performance.now() - started;
      try {
        const scored = unwrap(await evaluate(adapted.model, { x: vx, y: test.y }, 10)());
        const probabilities = unwrap(await adapted.model.predict(tx)());
        sourceOnly ??= probabilities.data;
        const evidence = candidateEvidence(probabilities, sourceOnly);
        runs.push({ method, accuracy: scored.accuracy, ms, steps: adapted.steps, stop: adapted.stop, ...evidence });
        console.log(`${target} seed ${seed} ${method}: ${(100 * scored.accuracy).toFixed(1)} % in ${(ms / 1000).toFixed(1)} s; snd ${evidence.snd.toFixed(3)}`);
      } finally {
        adapted.model.dispose();
      }
    }
    // Two oracles, with the target's labels: the source fine-tuned (the library's full fine-tune,
    // BatchNorm on the source's statistics), and the same architecture trained from scratch.
    for (const [name, recipe] of [['oracle-fine-tune', fullFineTune], ['oracle-scratch', fromScratch]] as const) {
      const started = performance.now();
      const oracle = unwrap(await transfer(backbone, recipe, { x: tx, y: adaptSet.y }, { seed })());
      const ms = performance.now() - started;
      try {
        const scored = unwrap(await evaluate(oracle.model, { x: vx, y: test.y }, 10)());
        const probabilities = unwrap(await oracle.model.predict(tx)());
        runs.push({ method: name, accuracy: scored.accuracy, ms, steps: oracle.history.reduce((a, h) => a + h.steps, 0), stop: 'done', ...candidateEvidence(probabilities, sourceOnly!) });
        console.log(`${target} seed ${seed} ${name}: ${(100 * scored.accuracy).toFixed(1)} % in ${(ms / 1000).toFixed(1)} s`);
      } finally {
        oracle.model.dispose();
      }
    }
  } finally {
    tf.dispose([sx, tx, vx]);
    model.dispose();
  }
  return { target, seed, backend, runs };
};

if (!process.argv.includes('--summary')) {
  const choice = unwrap(await setupBackend()());
  const backend = choice.description.split(' (')[0]!;
  mkdirSync(RESULTS, { recursive: true });
  const only = process.argv.indexOf('--shifts');
  const targets = only < 0 ? SHIFTS : (process.argv[only + 1] ?? '').split(',').filter((t): t is ShiftName => (SHIFTS as ReadonlyArray<string>).includes(t));
  for (const target of targets) {
    for (const seed of SEEDS) {
      const file = cellFile(target, seed);
      if (existsSync(file)) continue;
      const cell = await runCell(target, seed, backend);
      writeFileSync(file, `${JSON.stringify(cell, null, 1)}\n`);
    }
  }
}
const { summarize } = await import('./summary');
console.log(summarize(readCells()));
