/**
 * User story: "My digit reader was trained on clean scans. The new scanner's images are faint
 * (low contrast), it now gets almost everything wrong, and I have 1,600 of its images without
 * labels. Adapt the model to them, without labels, and tell me whether it helped."
 *
 * The model is the adaptation benchmark's ten-digit MNIST source (scripts/adapt/source/); the
 * scanner's images are the benchmark's `contrast` target. Their labels are read only to score.
 *
 * Run: npx tsx examples/adapt-to-a-shift.ts
 */
import * as tf from '@tensorflow/tfjs-core';
import { either as E } from 'fp-ts';
import { autoAdapt, evaluate } from 'transferkit';
import { fromLayersModel, setupBackend } from 'transferkit/tfjs';
import { loadAdaptSource } from '../scripts/adapt/sourceModel';
import { RANGES, take } from '../scripts/adapt/shifts';

const orExit = <A>(result: E.Either<{ readonly message: string }, A>): A => {
  if (E.isLeft(result)) {
    console.error(result.left.message);
    process.exit(1);
  }
  return result.right;
};

orExit(await setupBackend()());
const source = await loadAdaptSource();
const backbone = orExit(fromLayersModel(source, { top: 'features' }));
const scans = take(RANGES.targetAdapt, 'contrast');
const check = take(RANGES.targetTest, 'contrast');
const x = tf.tensor4d(scans.x, [scans.count, 28, 28, 1]);
const checkX = tf.tensor4d(check.x, [check.count, 28, 28, 1]);

// No target labels: autoAdapt tries every method that needs only the model and the scans, scores
// each on the scans alone, keeps the source model unless one clearly helps, then self-trains.
const adapted = orExit(await autoAdapt(backbone, { target: { x } }, { seed: 1 })());
console.log(`chosen    ${adapted.method}${adapted.selfTrained ? ', then self-training' : ''}`);
console.log(`why       ${adapted.reason}`);
for (const c of adapted.candidates) console.log(`candidate ${c.method.padEnd(12)} information ${c.score.toFixed(3)} nats, ${(c.ms / 1000).toFixed(1)} s`);

// The labels, only to say whether it helped.
const before = tf.tidy(() => tf.argMax(source.predict(checkX) as tf.Tensor, 1).dataSync());
const sourceAccuracy = before.filter((p, i) => p === check.y[i]).length / check.count;
const after = orExit(await evaluate(adapted.model, { x: checkX, y: check.y }, 10)());
console.log(`source    ${(100 * sourceAccuracy).toFixed(1)} % on ${check.count} labelled scans`);
console.log(`adapted   ${(100 * after.accuracy).toFixed(1)} %`);

adapted.model.dispose();
tf.dispose([x, checkX]);
source.dispose();
