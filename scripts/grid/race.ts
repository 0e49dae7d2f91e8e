/**
 * The validation race on every grid cell: `autoTransfer` with its default budget and folds on the
 * cell's labelled images (seeded by the cell's seed), its winner scored on the cell's test images,
 * into docs/results/grid-race/. The race times a step from random weights on the cell, so its plan
 * depends on the machine's load; each record keeps the price it planned with, and passing that as
 * `randomStartCost` runs the same race again. (docs/results/grid-race-price-1.5/ holds the races
 * run before the price was timed, all at the fixed 1.5.) With `--prior`, the selector's pick (from the cell's probe
 * similarity, docs/results/grid-probe/) races first. Resumable.
 *
 * Run: npx tsx scripts/grid/race.ts [--source cnn] [--prior] [--small] [--dir grid-race]
 *
 * `--small` runs only the cells below SMALL_PER_CLASS examples per class, `--dir` writes to another
 * directory under docs/results/. (docs/results/grid-race-every-fold/ holds the small cells raced by
 * the variant that trained each rung on every fold, at commit 684f5ab; it was not kept.)
 */
import { existsSync, readFileSync } from 'node:fs';
import '@tensorflow/tfjs-backend-cpu';
import { autoTransfer, evaluate, selectStrategy, type TransferGain } from 'transferkit';
import { setupBackend } from 'transferkit/tfjs';
import { gainSimilarity, similarityInterval } from '../../src/strategy/race/interval';
import { unwrap } from '../mnist/sourceModel';
import { SMALL_PER_CLASS } from './cells';
import { forEachGridCell, outFile } from './perCell';
import type { GridSourceName } from './sources';


export interface RaceRecord {
  readonly winner: string;
  /** The winner's accuracy on the cell's test images, in [0, 1]. */
  readonly accuracy: number;
  readonly ms: { readonly race: number; readonly retrain: number; readonly timing?: number };
  /** The price of a step from random weights the race planned with (timed on the cell; absent in races run before it was timed, at 1.5). */
  readonly randomStartCost?: { readonly value: number; readonly source: string };
  readonly retrainFraction: number;
  /** Whether each rung trained on every fold: present only in grid-race-every-fold/, the variant not kept (elsewhere a fold a rung). */
  readonly everyFold?: boolean;
  readonly fractions: ReadonlyArray<number>;
  readonly entries: ReadonlyArray<{ readonly name: string; readonly stop: string; readonly accuracy?: number; readonly runs: number }>;
}

/** The race on every grid cell (of `only`, when given; below SMALL_PER_CLASS per class with `small`) that has none yet; with `withPrior`, the selector's pick from the probe races first. */
export const runRaces = (only?: GridSourceName, withPrior = false, small = false, dir = withPrior ? 'grid-race-prior' : 'grid-race'): Promise<void> =>
  forEachGridCell(
  dir,
  async (source, cell, images): Promise<RaceRecord> => {
    // The probe as shipped: on every fold below SMALL_PER_CLASS per class, else the first.
    const probeFile = outFile(cell.perClass < SMALL_PER_CLASS ? 'grid-probe-folds' : 'grid-probe', cell);
    // The probe's similarity from its two accuracies (files written before it was the accuracy gap hold the loss ratio).
    const probe = withPrior && existsSync(probeFile) ? (JSON.parse(readFileSync(probeFile, 'utf8')) as { probe: TransferGain }).probe : undefined;
    // With its interval, as measureTransferGain now reports it (the files predate the field).
    const similarity = probe === undefined ? undefined : { similarity: gainSimilarity(probe.pretrained.accuracy, probe.random.accuracy), interval: similarityInterval(probe.pretrained.accuracy, probe.random.accuracy, probe.scored) };
    const prior = similarity === undefined ? undefined : unwrap(selectStrategy({ size: images.train.y.length, similarity, classes: images.classes }));
    const result = unwrap(await autoTransfer(source.backbone, { x: images.train.x, y: Array.from(images.train.y) }, { seed: cell.seed, classes: images.classes, ...(prior === undefined ? {} : { prior }) })());
    try {
      const accuracy = unwrap(await evaluate(result.model, { x: images.test.x, y: Array.from(images.test.y) }, images.classes)()).accuracy;
      const { race } = result;
      return {
        winner: race.winner,
        accuracy,
        ms: race.ms,
        retrainFraction: race.retrainFraction,
        randomStartCost: race.randomStartCost,
        fractions: race.fractions,
        entries: race.entries.map((e) => ({ name: e.name, stop: e.stop, ...(e.accuracy === undefined ? {} : { accuracy: e.accuracy }), runs: e.runs.length })),
      };
    } finally {
      result.model.dispose();
    }
  },
  (r) => `${r.winner} ${(100 * r.accuracy).toFixed(1)} % in ${((r.ms.race + r.ms.retrain) / 1000).toFixed(1)} s`,
  only,
  (cell) => !small || cell.perClass < SMALL_PER_CLASS,
);

if (process.argv[1] !== undefined && new URL(import.meta.url).pathname === process.argv[1]) {
  const i = process.argv.indexOf('--source');
  unwrap(await setupBackend()());
  const d = process.argv.indexOf('--dir');
  await runRaces(i < 0 ? undefined : (process.argv[i + 1] as GridSourceName), process.argv.includes('--prior'), process.argv.includes('--small'), d < 0 ? undefined : process.argv[d + 1]);
}
