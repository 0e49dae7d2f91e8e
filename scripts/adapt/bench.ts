/**
 * The domain-adaptation benchmark (`npm run adapt:bench`; docs/adaptation.md). The ten-digit
 * source (scripts/adapt/source/) adapts to five shifted targets (scripts/adapt/shifts.ts) with
 * every method of `adapt`, over three seeds; each model is scored on the held-out target test set,
 * beside source-only and an oracle (the source fine-tuned with the target's labels). For each
 * method it also records what unsupervised selection can see (scores on the unlabelled target
 * inputs), so selection rules are judged on the same runs.
 *
 * Resumable: each cell (target × seed) is written to docs/results/adaptation/<target>-<seed>.json
 * as it finishes and skipped when it exists. `-- --summary` prints the tables from the cells.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { either as E } from 'fp-ts';
import { adapt, ADAPT_METHODS, evaluate, fromScratch, fullFineTune, transfer, type AdaptMethod } from 'transferkit';
import { fromLayersModel, setupBackend } from 'transferkit/tfjs';
import { unwrap } from '../mnist/sourceModel';
import { candidateEvidence, type Evidence } from './evidence';
import { loadAdaptSource } from './sourceModel';
import { RANGES, SHIFTS, take, type ShiftName } from './shifts';

export const RESULTS = new URL('../../docs/results/adaptation/', import.meta.url);
export const SEEDS = [1, 2, 3] as const;

/** The oracles: the source fine-tuned with the target's labels, and the architecture trained on them from scratch. */
export type Oracle = 'oracle-fine-tune' | 'oracle-scratch';

/** One method's run in one cell. */
export interface MethodRun extends Evidence {
  readonly method: AdaptMethod | Oracle;
  /** Accuracy on the held-out target test set, in [0, 1]. */
  readonly accuracy: number;
  readonly ms: number;
  readonly steps: number;
  readonly stop: string;
}

export interface Cell {
  readonly target: ShiftName;
  readonly seed: number;
  readonly backend: string;
  readonly runs: ReadonlyArray<MethodRun>;
}

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
    for (const method of ADAPT_METHODS) {
      const started = performance.now();
      const adapted = unwrap(await adapt(backbone, method, { target: { x: tx }, source: { x: sx, y: source.y } }, { seed })());
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

export const cellFile = (target: string, seed: number): URL => new URL(`${target}-${seed}.json`, RESULTS);

export const readCells = (): Cell[] =>
  readdirSync(RESULTS)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(new URL(f, RESULTS), 'utf8')) as Cell);

if (!process.argv.includes('--summary')) {
  const choice = unwrap(await setupBackend()());
  const backend = choice.description.split(' (')[0]!;
  mkdirSync(RESULTS, { recursive: true });
  for (const target of SHIFTS) {
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
