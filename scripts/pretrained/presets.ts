/**
 * Every preset with its defaults on a real pretrained 224² model (the MobileNetV2 of model.ts):
 * 3 MNIST digit classes (5, 6, 7), 15 training images per class, 30 per class held out, in [0, 1]
 * as the model expects. Prints each run's held-out accuracy and time, and what each phase did.
 *
 *   npm run study:pretrained [-- --label <name>] [-- --only '<run>|<run>']
 *
 * Results go to docs/results/pretrained-presets.json under the label (default `current`); runs
 * already there under that label are skipped, so an interrupted study resumes. The full fine-tune
 * runs at batch 8 and from scratch at batch 4: at the default 32 a 224² MobileNetV2's full backward
 * pass does not fit the wasm heap (memory planning is a separate issue).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { either as E } from 'fp-ts';
import { evaluate, earlierLayerTap, featureExtractor, fromScratch, fullFineTune, partialFineTune, transfer, type Recipe, type TransferOptions } from 'transferkit';
import { fromLayersModel } from 'transferkit/tfjs';
import { openStudy } from './model';

const OUT = 'docs/results/pretrained-presets.json';

interface Run {
  readonly name: string;
  readonly recipe: Recipe;
  readonly top?: string;
  readonly options?: TransferOptions<tf.Tensor>;
}

const RUNS: ReadonlyArray<Run> = [
  { name: 'featureExtractor', recipe: featureExtractor },
  { name: 'featureExtractor, top flatten_1', recipe: featureExtractor, top: 'flatten_1' },
  { name: 'featureExtractor, top dense_2', recipe: featureExtractor, top: 'dense_2' },
  { name: 'earlierLayerTap', recipe: earlierLayerTap },
  { name: 'partialFineTune', recipe: partialFineTune },
  { name: 'fullFineTune (batch 8)', recipe: fullFineTune, options: { batchSize: 8 } },
  // The fine-tunes at the rate the guard ends at from the default 1e-3: what starting there saves.
  { name: 'partialFineTune, fine-tune at 1e-5', recipe: partialFineTune, options: { phases: { 'fine-tune': { learningRate: 1e-5 } } } },
  { name: 'fullFineTune (batch 8), fine-tune at 1e-5', recipe: fullFineTune, options: { batchSize: 8, phases: { 'fine-tune': { learningRate: 1e-5 } } } },
  // The fine-tunes at the other multiples of the head's rate that scripts/mnist/fineTuneRates.ts
  // measures on the MNIST grid: ×0.3 (3e-3) and ×0.01 (1e-4); the default is ×0.1 (1e-3).
  { name: 'partialFineTune, fine-tune at 3e-3', recipe: partialFineTune, options: { phases: { 'fine-tune': { learningRate: 3e-3 } } } },
  { name: 'partialFineTune, fine-tune at 1e-4', recipe: partialFineTune, options: { phases: { 'fine-tune': { learningRate: 1e-4 } } } },
  { name: 'fullFineTune (batch 8), fine-tune at 3e-3', recipe: fullFineTune, options: { batchSize: 8, phases: { 'fine-tune': { learningRate: 3e-3 } } } },
  { name: 'fullFineTune (batch 8), fine-tune at 1e-4', recipe: fullFineTune, options: { batchSize: 8, phases: { 'fine-tune': { learningRate: 1e-4 } } } },
  // From scratch at batch 4: at 8 its training-mode backward pass (BatchNorm on batch statistics)
  // aborts the wasm heap. First the case, 36 steps, where the moving BatchNorm statistics
  // had barely moved; then the default, which its time budget (SCRATCH_MAX_MS) ends at this size.
  { name: 'fromScratch (batch 4, 36 steps)', recipe: fromScratch, options: { batchSize: 4, phases: { scratch: { steps: 36 } } } },
  { name: 'fromScratch (batch 4)', recipe: fromScratch, options: { batchSize: 4 } },
];

/** The bytes of weights a save writes. */
const savedBytes = async (save: (h: tf.io.IOHandler) => Promise<unknown>): Promise<number> => {
  let bytes = 0;
  await save(
    tf.io.withSaveHandler(async (artifacts) => {
      bytes = (artifacts.weightData as ArrayBuffer).byteLength;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return bytes;
};

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const label = flag('--label') ?? 'current';
const only = flag('--only')?.split('|');

type Results = Record<string, Record<string, unknown>>;
const results: Results = existsSync(OUT) ? (JSON.parse(readFileSync(OUT, 'utf8')) as Results) : {};
results[label] ??= {};

const { source, train, test } = await openStudy();
for (const run of RUNS) {
  if (only !== undefined && !only.includes(run.name)) continue;
  if (results[label]![run.name] !== undefined) {
    console.log(`${run.name}: done already under '${label}'`);
    continue;
  }
  const backbone = fromLayersModel(source, run.top === undefined ? undefined : { top: run.top });
  if (E.isLeft(backbone)) throw new Error(backbone.left.message);
  const before = tf.memory().numTensors;
  const started = performance.now();
  const result = await transfer(backbone.right, run.recipe, { x: train.x, y: Array.from(train.y) }, { seed: 1, ...run.options })();
  const ms = performance.now() - started;
  if (E.isLeft(result)) {
    console.log(`${run.name}: ${result.left._tag}: ${result.left.message}`);
    results[label]![run.name] = { error: result.left.message, ms: Math.round(ms), leftTensors: tf.memory().numTensors - before };
  } else {
    const scores = await evaluate(result.right.model, { x: test.x, y: Array.from(test.y) }, 3, { batchSize: 8 })();
    // What an app ships: the whole model, or (for a head-only recipe) the head alone.
    const wholeBytes = await savedBytes((h) => result.right.model.save(h)());
    const headBytes = run.recipe.trainable.kind === 'head-only' ? await savedBytes((h) => result.right.model.saveHead(h)()) : undefined;
    result.right.model.dispose();
    if (E.isLeft(scores)) {
      console.log(`${run.name}: evaluating failed: ${scores.left.message}`);
      results[label]![run.name] = { error: `evaluating: ${scores.left.message}`, ms: Math.round(ms) };
      writeFileSync(OUT, `${JSON.stringify(results, null, 2)}\n`);
      continue;
    }
    const phases = result.right.history.map(({ epochs, trains: _trains, ...h }) => ({ ...h, firstLoss: epochs[0]?.loss, lastLoss: epochs[epochs.length - 1]?.loss }));
    const entry = { tap: result.right.tap.name, accuracy: scores.right.accuracy, loss: scores.right.loss, ms: Math.round(ms), wholeBytes, ...(headBytes === undefined ? {} : { headBytes }), phases };
    console.log(`${run.name}: tap ${entry.tap}, held-out accuracy ${(100 * entry.accuracy).toFixed(1)} %, ${(ms / 1000).toFixed(0)} s`);
    for (const p of phases) {
      console.log(`  ${p.name}: ${p.steps} steps, loss ${p.firstLoss?.toFixed(3)} → ${p.lastLoss?.toFixed(3)}, ${p.stop}; ${p.divergences.length} divergences, ended on ${p.weights} weights; ${p.batchNormsReestimated} BatchNorms re-estimated`);
    }
    results[label]![run.name] = entry;
  }
  writeFileSync(OUT, `${JSON.stringify(results, null, 2)}\n`);
}
tf.dispose([train.x, test.x]);
source.dispose();
