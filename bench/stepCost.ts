/**
 * How much of a training step of MobileNetV2's last block does not shrink with the batch: `transfer`
 * on one wasm thread (the whole kernel pack) at batches of 8, 16 and 32, alternating for three
 * rounds, in ms per step (the phase's `trainMs` over its steps; caching excluded). A least-squares
 * line through the medians, ms = fixed + per-image × batch, splits the step into the part that
 * follows the rows and the part that follows the weights — which every thread that shares a step
 * pays again for its part of the batch (docs/benchmarks.md).
 * Run: npm run bench -- steps
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { either as E } from 'fp-ts';
import { makeRecipe, transfer } from 'transferkit';
import { fromLayersModel, registerTransferKernels } from 'transferkit/tfjs';
import { mobileNetV2 } from './support/mobilenetv2';

const BATCHES = [8, 16, 32] as const;
const ROWS = 320;
const EPOCHS = 2;

export const run = async (): Promise<void> => {
  await tf.setBackend('wasm');
  const pack = registerTransferKernels('wasm');
  if (E.isLeft(pack)) throw new Error(pack.left.message);
  const model = mobileNetV2(96);
  const x = tf.randomNormal([ROWS, 96, 96, 3], 0, 1, 'float32', 2);
  try {
    const backbone = fromLayersModel(model, { top: 'out_relu' });
    if (E.isLeft(backbone)) throw new Error(backbone.left.message);
    const count = backbone.right.layers.filter((l) => /^(block_16_|Conv_1)/.test(l.name) && l.params > 0).length;
    const recipe = makeRecipe({ tap: { kind: 'top' }, phases: [{ name: 'last block', trains: { kind: 'top-layers', count }, epochs: EPOCHS, learningRate: 1e-3, optimizer: 'adam', regularization: { l2: 0 } }] });
    if (E.isLeft(recipe)) throw new Error('bad recipe');
    const y = Array.from({ length: ROWS }, (_, i) => i % 5);
    const times: Record<number, number[]> = {};
    for (let round = 0; round < 3; round++) {
      for (const batch of BATCHES) {
        const result = await transfer(backbone.right, recipe.right, { x, y }, { seed: 1, batchSize: batch })();
        if (E.isLeft(result)) throw new Error(result.left.message);
        result.right.model.dispose();
        const phase = result.right.history[0]!;
        (times[batch] ??= []).push(phase.trainMs / (EPOCHS * Math.ceil(ROWS / batch)));
      }
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[1]!;
    const points = BATCHES.map((b) => [b, median(times[b]!)] as const);
    const mb = points.reduce((s, [b]) => s + b, 0) / points.length;
    const mt = points.reduce((s, [, t]) => s + t, 0) / points.length;
    const slope = points.reduce((s, [b, t]) => s + (b - mb) * (t - mt), 0) / points.reduce((s, [b]) => s + (b - mb) ** 2, 0);
    console.log(`MobileNetV2 96², last block + head, transfer() on one wasm thread: ms per step (3 alternating rounds)`);
    for (const [b, t] of points) console.log(`  batch ${String(b).padStart(2)}: ${times[b]!.map((v) => v.toFixed(1).padStart(6)).join(' ')}   median ${t.toFixed(1)}`);
    console.log(`  line through the medians: ${(mt - slope * mb).toFixed(1)} ms fixed + ${slope.toFixed(2)} ms per image`);
  } finally {
    x.dispose();
    model.dispose();
    pack.right.unregister();
  }
};
