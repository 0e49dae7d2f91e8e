import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { either as E } from 'fp-ts';
import { featureExtractor, fullFineTune, partialFineTune, transfer, evaluate } from './src/index';
import { fromGraphModel } from './src/backends/tfjs/graphModel/index';
import { convClassifier } from './test/fixtures/tinyGraphs';
await tf.setBackend('cpu');
const g = await convClassifier();
const w0 = Object.fromEntries(Object.entries(g.weights).map(([k, v]) => [k, Array.from(v[0]!.dataSync())]));
const b = fromGraphModel(g);
if (E.isLeft(b)) throw b.left;
console.log(b.right.capabilities, b.right.layers.map((l) => `${l.name}:${l.kind}`).join(' '), 'top', b.right.top);
const x = tf.randomNormal([60, 8, 8, 1], 0, 1, 'float32', 5);
const m = Array.from(tf.tidy(() => tf.mean(x, [1, 2, 3])).dataSync()); const y = m.map((v) => (v > 0.05 ? 2 : v < -0.05 ? 0 : 1));
const before = tf.memory().numTensors;
for (const r of [featureExtractor, partialFineTune, fullFineTune]) {
  const res = await transfer(b.right, r, { x, y }, { seed: 1, epochs: 30 })();
  if (E.isLeft(res)) { console.log(r.kind, res.left.message); continue; }
  const ev = await evaluate(res.right.model, { x, y }, res.right.classes)();
  console.log(r.kind, E.isRight(ev) && ev.right.accuracy, res.right.history.map((h) => `${h.name}:${h.trains.kind} loss ${h.epochs.at(-1)?.loss?.toFixed(3)}`).join(', '));
  res.right.model.dispose();
}
console.log('leak', tf.memory().numTensors - before);
const same = Object.entries(g.weights).every(([k, v]) => Array.from(v[0]!.dataSync()).every((a, i) => Object.is(a, w0[k]![i])));
console.log('source unchanged', same);
