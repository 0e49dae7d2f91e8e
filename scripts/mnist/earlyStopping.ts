/**
 * Early stopping on the validation loss, measured on the MNIST study's grid: the feature-extractor
 * preset on every cell (4 target domains × 5, 20, 100, 600 images per digit × 3 seeds), all with
 * the same seeded validation split (a fifth of the training images), its head phase run to its
 * full schedule and with `earlyStopping` at several patiences. Scored on the study's 500 held-out
 * images. docs/browser.md quotes it. Resumable: cells already in the results file are skipped.
 *
 * Run: npx tsx scripts/mnist/earlyStopping.ts (about 8 minutes on 2 cores; wasm)
 */
import '@tensorflow/tfjs-backend-cpu';
import { featureExtractor, headPhase, makeRecipe, type Recipe } from 'transferkit';
import { openSourceBackbone, unwrap } from './sourceModel';
import { forEachCell, trainAndScore, type CellSpec } from './study';

const OUT = new URL('../../docs/results/early-stopping-mnist.json', import.meta.url);
const SIZES = [5, 20, 100, 600] as const;
const SEEDS = [0, 1, 2] as const;
/** Patience in steps; 0 is the full schedule (no early stopping). */
export const PATIENCES = [0, 100, 200, 400] as const;

interface Cell extends CellSpec {
  /** By patience: held-out accuracy and the head's steps. */
  readonly runs: Record<number, { readonly accuracy: number; readonly steps: number }>;
}


/** The head phase with no early stopping (the default head phase has some, HEAD_PATIENCE_STEPS). */
const { earlyStopping: _default, ...fullSchedule } = headPhase;

const recipeWith = (patience: number): Recipe =>
  unwrap(makeRecipe({ ...featureExtractor, phases: [patience === 0 ? fullSchedule : { ...fullSchedule, earlyStopping: { patience } }] }));

const { source, backbone } = await openSourceBackbone();
const done = await forEachCell<Cell>(
  OUT,
  SIZES,
  SEEDS,
  async (spec, { train, test }) => {
    const runs: Cell['runs'] = {};
    for (const patience of PATIENCES) {
      const { accuracy, history } = await trainAndScore(backbone, recipeWith(patience), train, test, { seed: spec.seed, validation: { split: 0.2 } });
      runs[patience] = { accuracy, steps: history[0]!.steps };
    }
    return { ...spec, runs };
  },
  (c) => PATIENCES.map((p) => `${p}: ${(100 * c.runs[p]!.accuracy).toFixed(1)} % in ${c.runs[p]!.steps} steps`).join(', '),
);
for (const patience of PATIENCES.slice(1)) {
  for (const perDigit of SIZES) {
    const cells = done.filter((c) => c.perDigit === perDigit);
    const diff = cells.map((c) => 100 * (c.runs[patience]!.accuracy - c.runs[0]!.accuracy));
    const steps = cells.map((c) => c.runs[patience]!.steps / c.runs[0]!.steps);
    const mean = (a: number[]): number => a.reduce((s, v) => s + v, 0) / a.length;
    console.log(`patience ${patience}, ${perDigit} per digit: accuracy ${mean(diff) >= 0 ? '+' : ''}${mean(diff).toFixed(1)} points on average (${Math.min(...diff).toFixed(1)} to ${Math.max(...diff).toFixed(1)}), ${(100 * mean(steps)).toFixed(0)} % of the steps`);
  }
}
source.dispose();
