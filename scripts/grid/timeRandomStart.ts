/**
 * How steady the race's timed price of a step from random weights is: `timeRandomStart` four times
 * on each grid source, at 5 and 100 images per class of unchanged digits, with the ratio it
 * measured (before the race's bounds) and the time the timing took. Quoted in
 * src/strategy/race/timing.ts.
 *
 * Run: npx tsx scripts/grid/timeRandomStart.ts
 */
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend } from 'transferkit/tfjs';
import { fromScratch } from 'transferkit';
import { unwrap } from '../mnist/sourceModel';
import { loadSource } from './cells';
import { gridDomain, trainingSet } from './domains';
import { stratifiedFolds } from '../../src/strategy/race/folds';
import { timeRandomStart } from '../../src/strategy/race/timing';
import { deriveSeed } from '../../src/core/random';
import type { GridSourceName } from './sources';
unwrap(await setupBackend()());
for (const name of ['cnn', 'residual', 'mobilenet'] as GridSourceName[]) {
  const source = await loadSource(name);
  for (const perClass of [5, 100]) {
    const set = trainingSet(gridDomain('digits'), perClass, 0);
    const x = tf.tensor4d(set.x, [set.count, 28, 28, 1]);
    const ids = Int32Array.from(set.y);
    const folds = unwrap(stratifiedFolds(ids, 5, 3, deriveSeed(0, 41)));
    const prices: string[] = [];
    for (let i = 0; i < 4; i++) {
      const t = unwrap(await timeRandomStart({ backbone: source.backbone, data: { x, y: Array.from(set.y) }, classes: 5, folds, batchSize: 32, options: { seed: 0, batchSize: 32, classes: 5 } }, fromScratch));
      prices.push(`${t.measured.toFixed(2)} (${t.ms.toFixed(0)} ms)`);
    }
    console.log(name, perClass, prices.join(', '));
    x.dispose();
  }
  source.dispose();
}
