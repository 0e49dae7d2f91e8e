/**
 * Runs one transfer story end to end and prints it: the recipe and why, training progress, the
 * held-out accuracy, and the same recipe from an untrained copy of the architecture (the
 * from-scratch baseline), so the gain from transfer is measured rather than assumed.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type * as tfl from '@tensorflow/tfjs-layers';
import { either as E } from 'fp-ts';
import { evaluate, transfer, type Recipe, type TransferResult } from 'transferkit';
import { fromLayersModel, type TfjsTransferModel } from 'transferkit/tfjs';
import { architecture, epochPrinter, pretrainedSource, targetTask } from './toyTasks';

export interface Story {
  readonly title: string;
  readonly recipe: Recipe;
  /** Labelled target examples per class. */
  readonly perClass: number;
  /** Called with the trained model (and the untouched source) before it is disposed, for what the example shows off. */
  readonly after?: (result: TransferResult<TfjsTransferModel>, test: { x: tf.Tensor; y: number[] }, source: tfl.LayersModel) => Promise<void>;
}

const accuracyOf = async (model: tfl.LayersModel, recipe: Recipe, train: { x: tf.Tensor; y: number[] }, test: { x: tf.Tensor; y: number[] }, verbose: boolean) => {
  const backbone = fromLayersModel(model);
  if (E.isLeft(backbone)) throw new Error(backbone.left.message);
  const options = { seed: 1, batchSize: 16, ...(verbose ? { onProgress: epochPrinter() } : {}) };
  const result = await transfer(backbone.right, recipe, train, options)();
  if (E.isLeft(result)) throw new Error(result.left.message);
  const scores = await evaluate(result.right.model, test, result.right.classes)();
  if (E.isLeft(scores)) throw new Error(scores.left.message);
  return { result: result.right, accuracy: scores.right.accuracy };
};

export const tell = async (story: Story): Promise<void> => {
  await tf.setBackend('cpu');
  console.log(`${story.title}\n`);
  console.log(`strategy  ${story.recipe.kind}`);
  story.recipe.rationale.forEach((line) => console.log(`why       ${line}`));
  const source = await pretrainedSource();
  const task = targetTask(story.perClass);
  console.log(`\ntraining on ${story.perClass} labelled examples per class (3 classes), testing on 100 per class:`);
  const transferred = await accuracyOf(source, story.recipe, task.train, task.test, true);
  const tap = transferred.result.tap;
  console.log(`\ntap       ${tap.name} (${tap.kind}, layer ${tap.index})`);
  transferred.result.history.forEach((h) =>
    console.log(`phase     ${h.name}: ${h.epochs.length} epochs, caching ${h.cacheMs.toFixed(0)} ms, training ${h.trainMs.toFixed(0)} ms`),
  );
  await story.after?.(transferred.result, task.test, source);
  transferred.result.model.dispose();
  const scratchModel = architecture(4);
  const scratch = await accuracyOf(scratchModel, story.recipe, task.train, task.test, false);
  scratch.result.model.dispose();
  const gain = 100 * (transferred.accuracy - scratch.accuracy);
  console.log(`\ntest accuracy, transferred:        ${(100 * transferred.accuracy).toFixed(1)} %`);
  console.log(`test accuracy, same recipe from an untrained copy: ${(100 * scratch.accuracy).toFixed(1)} %`);
  console.log(`transfer gain: ${gain >= 0 ? '+' : ''}${gain.toFixed(1)} points${gain < 0 ? ' (negative transfer)' : ''}`);
  scratchModel.dispose();
  source.dispose();
  task.free();
};
