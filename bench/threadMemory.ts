/**
 * What one worker thread of `withThreads` costs in memory: the process's resident set before and
 * after starting 1, then 2 threads on a small dense model (each thread loads its own tfjs and copy
 * of the model), on the caller's backend. docs/boundary.md quotes it.
 * Run: npm run bench -- threadmem
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { withThreads } from 'transferkit/tfjs/threads';

const mb = (): number => process.memoryUsage().rss / 2 ** 20;

export const run = async (): Promise<void> => {
  await tf.setBackend('cpu');
  const model = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [8], units: 16, name: 'features' }), tfl.layers.dense({ units: 3, activation: 'softmax' })] });
  console.log('withThreads: resident memory per worker thread (cpu backend, a small dense model)');
  for (const threads of [1, 2]) {
    for (let round = 0; round < 3; round++) {
      const before = mb();
      const backbone = await withThreads(model, { threads })();
      await new Promise((resolve) => setTimeout(resolve, 500));
      const added = mb() - before;
      console.log(`  ${threads} thread(s), round ${round + 1}: +${added.toFixed(0)} MB, ${(added / threads).toFixed(0)} MB per thread`);
      if (backbone._tag === 'Right') await backbone.right.close();
    }
  }
  model.dispose();
};
