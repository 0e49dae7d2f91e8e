/**
 * Runs one transfer story end to end on real data and prints it: the recipe and why, training
 * progress, the held-out accuracy, and the same recipe from an untrained copy of the architecture
 * (the from-scratch baseline), so the gain from transfer is measured rather than assumed.
 *
 * The problem: the repository's MNIST source model — a small CNN of conv–BatchNorm–ReLU blocks
 * trained on digits 0–4, committed in scripts/mnist/source/ — and a new task: digits 5–9, with a
 * few labelled images per digit (from the `mnist` package, which ships 10,000 real digits; nothing
 * is downloaded).
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { either as E } from 'fp-ts';
import { evaluate, transfer, type Recipe, type TransferResult } from 'transferkit';
import { fromLayersModel, setupBackend, type TfjsTransferModel } from 'transferkit/tfjs';
import { SPLITS, take, TARGET_DIGITS } from '../../scripts/mnist/data';
import { loadSourceModel, SOURCE_TOP, sourceArchitecture } from '../../scripts/mnist/sourceModel';

export interface Story {
  readonly title: string;
  readonly recipe: Recipe;
  /** Labelled target images per digit. */
  readonly perClass: number;
  /** Called with the trained model (and the untouched source) before it is disposed, for what the example shows off. */
  readonly after?: (result: TransferResult<TfjsTransferModel>, test: { x: tf.Tensor; y: number[] }, source: tfl.LayersModel) => Promise<void>;
}

const TEST_PER_CLASS = 100;

/** Digits 5–9 as labels 0–4: `perDigit` images of each, from index `from` on. */
const digits = (from: number, perDigit: number): { x: tf.Tensor4D; y: number[] } => {
  const set = take(TARGET_DIGITS, from, perDigit);
  return { x: tf.tensor4d(set.x, [set.count, 28, 28, 1]), y: Array.from(set.y) };
};

/** A one-line progress report for the terminal, printed as every 10th epoch (and the last) ends. */
const epochPrinter = (): ((p: { phase: string; epoch: number; epochs: number; batch: number; batches: number; loss: number; accuracy: number }) => void) => (p) => {
  if (p.batch === p.batches && (p.epoch === p.epochs || p.epoch % 10 === 0)) {
    console.log(`  ${p.phase.padEnd(9)} epoch ${String(p.epoch).padStart(3)}/${p.epochs}  loss ${p.loss.toFixed(3)}  accuracy ${(100 * p.accuracy).toFixed(0)} %`);
  }
};

const accuracyOf = async (model: tfl.LayersModel, recipe: Recipe, train: { x: tf.Tensor; y: number[] }, test: { x: tf.Tensor; y: number[] }, verbose: boolean) => {
  const backbone = fromLayersModel(model, SOURCE_TOP);
  if (E.isLeft(backbone)) throw new Error(backbone.left.message);
  const options = { seed: 1, batchSize: 16, ...(verbose ? { onProgress: epochPrinter() } : {}) };
  const result = await transfer(backbone.right, recipe, train, options)();
  if (E.isLeft(result)) throw new Error(result.left.message);
  const scores = await evaluate(result.right.model, test, result.right.classes)();
  if (E.isLeft(scores)) throw new Error(scores.left.message);
  return { result: result.right, accuracy: scores.right.accuracy };
};

export const tell = async (story: Story): Promise<void> => {
  // wasm (with transferkit's kernels) where @tensorflow/tfjs-backend-wasm is installed, else cpu.
  const backend = await setupBackend()();
  if (E.isLeft(backend)) throw new Error(backend.left.message);
  console.log(`${story.title}\n`);
  console.log(`strategy  ${story.recipe.kind}`);
  story.recipe.rationale.forEach((line) => console.log(`why       ${line}`));
  const source = await loadSourceModel();
  const train = digits(0, story.perClass);
  const test = digits(SPLITS.target.testEnd - TEST_PER_CLASS, TEST_PER_CLASS);
  console.log(`\nsource: a CNN trained on MNIST digits 0–4; target: digits 5–9 (tfjs backend '${backend.right.backend}')`);
  console.log(`training on ${story.perClass} labelled images per digit, testing on ${TEST_PER_CLASS} held-out images per digit:`);
  const transferred = await accuracyOf(source, story.recipe, train, test, true);
  const tap = transferred.result.tap;
  console.log(`\ntap       ${tap.name} (${tap.kind}, layer ${tap.index})`);
  transferred.result.history.forEach((h) =>
    console.log(`phase     ${h.name}: ${h.epochs.length} epochs, caching ${h.cacheMs.toFixed(0)} ms, training ${h.trainMs.toFixed(0)} ms`),
  );
  await story.after?.(transferred.result, test, source);
  transferred.result.model.dispose();
  const scratchModel = sourceArchitecture(7);
  const scratch = await accuracyOf(scratchModel, story.recipe, train, test, false);
  scratch.result.model.dispose();
  const gain = 100 * (transferred.accuracy - scratch.accuracy);
  console.log(`\ntest accuracy, transferred:        ${(100 * transferred.accuracy).toFixed(1)} %`);
  console.log(`test accuracy, same recipe from an untrained copy: ${(100 * scratch.accuracy).toFixed(1)} %`);
  console.log(`transfer gain: ${gain >= 0 ? '+' : ''}${gain.toFixed(1)} points${gain < 0 ? ' (negative transfer)' : ''}`);
  scratchModel.dispose();
  source.dispose();
  tf.dispose([train.x, test.x]);
};
