/**
 * Whether the probe (`measureTransferGain`) reads small data better on every fold than on one: at 5
 * labelled images per class (or `--per-class N`), on five of the grid's domains and three seeds, the accuracy gap of a
 * full fine-tune over from scratch at an eighth and a quarter of their schedules, on each of the
 * three folds and their mean. The probe scores fold 0 alone (9 images at 5 per class); this asks
 * whether the mean over 25 would have told permuted digits, where from scratch wins by 10–20
 * points, from the others. A one-off measurement for docs/study.md, not part of the grid.
 *
 * Run: npx tsx scripts/grid/tinyProbe.ts [cnn|residual|mobilenet] [--per-class 20]
 */
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend } from 'transferkit/tfjs';
import { fromScratch, fullFineTune } from 'transferkit';
import { unwrap } from '../mnist/sourceModel';
import { loadSource } from './cells';
import { gridDomain, trainingSet, type GridDomainName } from './domains';
import type { GridSourceName } from './sources';
import { stratifiedFolds } from '../../src/strategy/race/folds';
import { gainSimilarity } from '../../src/strategy/race/interval';
import { runRungs, type Racer } from '../../src/strategy/race/race';
import { deriveSeed } from '../../src/core/random';
unwrap(await setupBackend()());
const named = process.argv[2]?.startsWith('--') === false ? process.argv[2] : 'cnn';
const source = await loadSource(named as GridSourceName);
const fractions = [0.125, 0.25];
const at = process.argv.indexOf('--per-class');
const perClass = at < 0 ? 5 : Number(process.argv[at + 1]);
for (const domain of ['permuted', 'digits', 'inverted', 'noisy', 'trio-thick'] as GridDomainName[]) {
  for (const seed of [0, 1, 2]) {
    const d = gridDomain(domain);
    const set = trainingSet(d, perClass, seed);
    const x = tf.tensor4d(set.x, [set.count, 28, 28, 1]);
    const ids = Int32Array.from(set.y);
    const classes = d.classes.length;
    const folds = unwrap(stratifiedFolds(ids, classes, 3, deriveSeed(seed, 41)));
    const out: string[] = [];
    for (const fraction of fractions) {
      const gaps: number[] = [];
      for (let f = 0; f < 3; f++) {
        const racers: Racer[] = [fullFineTune, fromScratch].map((recipe) => ({ name: recipe.kind, recipe, cost: 0, runs: [] }));
        unwrap(await runRungs({ backbone: source.backbone, data: { x, y: Array.from(set.y) }, classes, folds: [folds[f]!], batchSize: 32, options: { seed, batchSize: 32, classes } }, racers, [fraction], ids));
        gaps.push(gainSimilarity(racers[0]!.runs[0]!.accuracy, racers[1]!.runs[0]!.accuracy));
      }
      out.push(`f=${fraction}: ${gaps.map((g) => g.toFixed(3)).join(' ')} mean ${(gaps.reduce((a, b) => a + b, 0) / 3).toFixed(3)}`);
    }
    console.log(domain, seed, out.join(' | '));
    x.dispose();
  }
}
source.dispose();
