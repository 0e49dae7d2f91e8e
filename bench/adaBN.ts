/**
 * What AdaBN costs: re-estimating every BatchNorm's statistics on the target
 * (`model.renormalize`, one pass in training mode that sums each layer's moments) against one
 * embedding pass over the same target (`backbone.embed` at the top), same backend, same batches,
 * alternating rounds. On the adaptation benchmark's ten-digit MNIST source (1,600 target images of
 * 28²) and on MobileNetV2 at 96² (seeded weights, 128 images). The goal: at most 2×.
 * Run: npm run bench -- adabn
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { either as E } from 'fp-ts';
import { fromLayersModel, setupBackend } from 'transferkit/tfjs';
import { loadAdaptSource } from '../scripts/adapt/sourceModel';
import { RANGES, take } from '../scripts/adapt/shifts';
import { alternate } from './support/alternate';
import { mobileNetV2 } from './support/mobilenetv2';

const ROUNDS = 5;
const BATCH = 32;

const orThrow = <A>(result: E.Either<{ readonly message: string }, A>): A => {
  if (E.isLeft(result)) throw new Error(result.left.message);
  return result.right;
};

const compare = async (name: string, model: tfl.LayersModel, top: string, x: tf.Tensor): Promise<void> => {
  const backbone = orThrow(fromLayersModel(model, { top }));
  const tap = backbone.layers[backbone.top]!;
  const last = backbone.layers[backbone.layers.length - 1]!;
  const adapted = orThrow(await backbone.build({ tap, head: { hidden: [], dropout: 0 }, classes: last.outputShape.at(-1)!, pooling: 'average', start: 'pretrained', seed: 1, classifier: 'source' })());
  try {
    const [adabn, embed] = await alternate(
      async () => void orThrow(await adapted.renormalize(x, { batchSize: BATCH })()),
      async () => void orThrow(await backbone.embed(x, tap, { pooling: 'average', batchSize: BATCH })()),
      ROUNDS,
    );
    console.log(`| ${name} | ${x.shape[0]} | ${(adabn / 1000).toFixed(2)} | ${(embed / 1000).toFixed(2)} | ${(adabn / embed).toFixed(2)}× |`);
  } finally {
    adapted.dispose();
  }
};

export const run = async (): Promise<void> => {
  const choice = orThrow(await setupBackend()());
  console.log(`AdaBN against one embedding pass, ${choice.description.split(' (')[0]}, batches of ${BATCH}, median of ${ROUNDS} alternating rounds`);
  console.log('| model | images | AdaBN (s) | embed (s) | ratio |', '\n|---|---:|---:|---:|---:|');
  const source = await loadAdaptSource();
  const target = take(RANGES.targetAdapt, 'contrast');
  const x = tf.tensor4d(target.x, [target.count, 28, 28, 1]);
  await compare('MNIST ten-digit CNN (3 BatchNorms)', source, 'features', x);
  tf.dispose(x);
  source.dispose();
  const mobilenet = mobileNetV2(96, 10);
  const images = tf.randomUniform([128, 96, 96, 3], -1, 1, 'float32', 3);
  await compare('MobileNetV2 at 96² (52 BatchNorms)', mobilenet, 'global_average_pooling2d', images);
  tf.dispose(images);
  mobilenet.dispose();
};
