/**
 * How many steps a new head needs: the feature-extractor preset on every cell of the MNIST study's
 * grid (4 target domains × 5, 20, 100, 600 images per digit × 3 seeds), each run with its head
 * cut to 50, 100, 200, 400, 800 and 2,000 steps (options.epochs), scored on the study's 500
 * held-out images. docs/browser.md quotes it: what a time budget that cuts the head short costs.
 * Resumable: cells already in the results file are skipped.
 *
 * Run: npx tsx scripts/mnist/headSteps.ts (about 3 minutes on 2 cores; wasm)
 */
import '@tensorflow/tfjs-backend-cpu';
import { featureExtractor } from 'transferkit';
import { openSourceBackbone, unwrap } from './sourceModel';
import { BATCH, forEachCell, trainAndScore, type CellSpec } from './study';

const OUT = new URL('../../docs/results/head-steps-mnist.json', import.meta.url);
const STEPS = [50, 100, 200, 400, 800, 2000] as const;
const SIZES = [5, 20, 100, 600] as const;
const SEEDS = [0, 1, 2] as const;

interface Cell extends CellSpec {
  /** Held-out accuracy by the head's step count. */
  readonly accuracy: Record<number, number>;
}


const { source, backbone } = await openSourceBackbone();
const done = await forEachCell<Cell>(
  OUT,
  SIZES,
  SEEDS,
  async (spec, { train, test }) => {
    const batches = Math.ceil(train.y.length / BATCH);
    const accuracy: Record<number, number> = {};
    for (const steps of STEPS) accuracy[steps] = (await trainAndScore(backbone, featureExtractor, train, test, { seed: spec.seed, epochs: Math.ceil(steps / batches) })).accuracy;
    return { ...spec, accuracy };
  },
  (c) => STEPS.map((s) => `${s}: ${(100 * c.accuracy[s]!).toFixed(1)}`).join(', '),
);
const gap = (cells: Cell[], from: number): number[] => cells.map((c) => 100 * (c.accuracy[2000]! - c.accuracy[from]!));
for (const perDigit of SIZES) {
  const cells = done.filter((c) => c.perDigit === perDigit);
  const g = gap(cells, 400);
  console.log(`${perDigit} per digit: 2,000 steps against 400: ${(g.reduce((a, b) => a + b, 0) / g.length).toFixed(1)} points on average, ${Math.min(...g).toFixed(1)} to ${Math.max(...g).toFixed(1)}`);
}
source.dispose();
