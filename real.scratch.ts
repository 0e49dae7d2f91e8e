import * as tf from '@tensorflow/tfjs-core';
import { either as E } from 'fp-ts';
import { featureExtractor, partialFineTune, fullFineTune, transfer, evaluate } from './src/index';
import { setupBackend } from './src/backends/tfjs/index';
import { fromGraphModel } from './src/backends/tfjs/graphModel/index';
import { loadMidGraph } from './scripts/pretrained/graphModel';
import { digitImages, STUDY_DIGITS } from './scripts/pretrained/model';
const be = await setupBackend()(); console.log(E.isRight(be) && be.right.backend);
const g = await loadMidGraph();
const b = fromGraphModel(g, { inputRange: [0, 1] });
if (E.isLeft(b)) throw b.left;
console.log(b.right.capabilities, b.right.layers.length, 'top', b.right.layers[b.right.top]!.name, new Set(b.right.layers.map((l) => l.kind)));
const train = digitImages(STUDY_DIGITS, 0, 12);
const test = digitImages(STUDY_DIGITS, 600, 10);
const before = tf.memory().numTensors;
for (const r of [featureExtractor, partialFineTune, fullFineTune]) {
  const t0 = performance.now();
  const res = await transfer(b.right, r, { x: train.x, y: train.y }, { seed: 1, batchSize: 12 })();
  if (E.isLeft(res)) { console.log(r.kind, res.left.message); continue; }
  const ev = await evaluate(res.right.model, { x: test.x, y: test.y }, res.right.classes)();
  console.log(r.kind, E.isRight(ev) && ev.right.accuracy, ((performance.now() - t0) / 1000).toFixed(1), 's', res.right.history.map((h) => `${h.name} ${h.steps} steps mb ${h.microBatch} stop ${h.stop}`).join('; '));
  res.right.model.dispose();
}
console.log('leak', tf.memory().numTensors - before);
