/**
 * The probe signal on every grid cell: `measureTransferGain` on the cell's own labelled images
 * (seeded by the cell's seed) on its first fold (`folds: 1`), into docs/results/grid-probe/; and
 * with `--every-fold`, on the cells below SMALL_PER_CLASS examples per class, on all three folds
 * (`folds: 3`) into docs/results/grid-probe-folds/. `measureTransferGain`'s default is the second
 * below 30 per class and the first from there on. Resumable. The files of the first
 * pass (2026-12-07) hold in `similarity` the ratio of the two losses, the probe's first
 * definition; the summary reads both sides' accuracies and losses, never that field.
 *
 * Run: npx tsx scripts/grid/probe.ts [--source cnn] [--every-fold]
 */
import '@tensorflow/tfjs-backend-cpu';
import { measureTransferGain, type TransferGain } from 'transferkit';
import { setupBackend } from 'transferkit/tfjs';
import { unwrap } from '../mnist/sourceModel';
import { SMALL_PER_CLASS } from './cells';
import { forEachGridCell } from './perCell';
import type { GridSourceName } from './sources';

/** The probe on every grid cell (of `only`, when given) that has none yet: on the first fold, or with `everyFold` on all three on the small cells. */
export const runProbes = (only?: GridSourceName, everyFold = false): Promise<void> =>
  forEachGridCell(
  everyFold ? 'grid-probe-folds' : 'grid-probe',
  async (source, cell, images): Promise<{ readonly probe: TransferGain }> => ({
    probe: unwrap(await measureTransferGain(source.backbone, { x: images.train.x, y: Array.from(images.train.y) }, { seed: cell.seed, classes: images.classes, folds: everyFold ? 3 : 1 })()),
  }),
  (r) => `similarity ${r.probe.similarity.toFixed(3)} (pretrained ${(100 * r.probe.pretrained.accuracy).toFixed(1)} %, loss ${r.probe.pretrained.loss.toFixed(3)}; random ${(100 * r.probe.random.accuracy).toFixed(1)} %, loss ${r.probe.random.loss.toFixed(3)})`,
  only,
  (cell) => !everyFold || cell.perClass < SMALL_PER_CLASS,
);

if (process.argv[1] !== undefined && new URL(import.meta.url).pathname === process.argv[1]) {
  const i = process.argv.indexOf('--source');
  unwrap(await setupBackend()());
  await runProbes(i < 0 ? undefined : (process.argv[i + 1] as GridSourceName), process.argv.includes('--every-fold'));
}
