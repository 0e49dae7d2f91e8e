/**
 * A full fine-tune of a MobileNetV2 at 224² (built in code, random weights: bench/support/
 * mobilenetv2.ts) and of the real InceptionV3 at 299² of the `nsfwjs` package, on wasm with the kernel pack, one thread: the time of one epoch of its
 * fine-tune phase and the peak memory, at batch 32 as transferkit runs it by default (each step in
 * passes that fit the heap, memory.ts), against batch 8 (whose steps fit whole) and batch 32 in
 * one pass (the memory plan turned off with `memoryBytes`, as before micro-batches), and batch 32
 * in passes of 8, 4 and 2 (budgets set to hold that many). Each row runs
 * in a process of its own, so its peak resident memory and wasm heap are its own.
 * Run: npm run bench -- microbatch. Results: docs/results/micro-batches.json.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { either as E } from 'fp-ts';
import { fullFineTune, transfer } from 'transferkit';
import { fromLayersModel, setupBackend } from 'transferkit/tfjs';
import { loadInceptionV3 } from '../scripts/pretrained/model';
import { mobileNetV2 } from './support/mobilenetv2';
import { peakMB } from './support/workloadJobs';

const RESULTS = fileURLToPath(new URL('../docs/results/micro-batches.json', import.meta.url));
/** Training images: three batches of 32, twelve of 8. */
const IMAGES = 96;

const MODELS = {
  'MobileNetV2 224²': async () => mobileNetV2(224, 10),
  'InceptionV3 299² (nsfwjs)': loadInceptionV3,
} as const;
type ModelName = keyof typeof MODELS;

const ROWS: ReadonlyArray<{ readonly model: ModelName; readonly name: string; readonly batchSize: number; readonly memoryBytes?: number; readonly passes?: number }> = (Object.keys(MODELS) as ModelName[]).flatMap((model) => [
  { model, name: 'batch 32, passes that fit (default)', batchSize: 32 },
  { model, name: 'batch 8', batchSize: 8 },
  { model, name: 'batch 32 in one pass (no plan)', batchSize: 32, memoryBytes: Number.MAX_VALUE },
  { model, name: 'batch 32, passes of 8', batchSize: 32, passes: 8 },
  { model, name: 'batch 32, passes of 4', batchSize: 32, passes: 4 },
  { model, name: 'batch 32, passes of 2', batchSize: 32, passes: 2 },
]);

interface Row {
  readonly model: string;
  readonly name: string;
  readonly batchSize: number;
  readonly microBatch?: number;
  /** The fine-tune phase's epoch, in seconds (caching and the head phase not included). */
  readonly epochSeconds?: number;
  readonly peakMB: number;
  readonly heapMB: number;
  readonly failure?: string;
}

const measure = async (index: number): Promise<Row> => {
  const { model: modelName, name, batchSize, passes } = ROWS[index]!;
  let memoryBytes = ROWS[index]!.memoryBytes;
  const choice = await setupBackend({ prefer: ['wasm'] })();
  if (E.isLeft(choice) || choice.right.backend !== 'wasm') throw new Error('wasm did not start');
  const source = await MODELS[modelName]();
  const x = tf.randomUniform([IMAGES, ...(source.inputs[0]!.shape.slice(1) as number[])], 0, 1, 'float32', 1);
  const y = Array.from({ length: IMAGES }, (_, i) => i % 10);
  const backbone = fromLayersModel(source);
  if (E.isLeft(backbone)) throw new Error(backbone.left.message);
  if (passes !== undefined) {
    // The budget that holds `passes` examples of this phase's step, read from the plan.
    const model = await backbone.right.build({ tap: backbone.right.layers[backbone.right.top]!, head: { hidden: [], dropout: 0 }, classes: 10, pooling: 'average', start: 'pretrained', seed: 1 })();
    if (E.isLeft(model)) throw new Error(model.left.message);
    const plan = model.right.planPhase(fullFineTune.phases[1]!, batchSize, Number.MAX_VALUE);
    model.right.dispose();
    if (E.isLeft(plan)) throw new Error(plan.left.message);
    memoryBytes = (passes + 0.5) * plan.right.bytesPerExample;
  }
  const result = await transfer(backbone.right, fullFineTune, { x, y }, { seed: 1, batchSize, phases: { head: { steps: 1 }, 'fine-tune': { epochs: 1 } }, ...(memoryBytes === undefined ? {} : { memoryBytes }) })();
  const heapMB = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length / 2 ** 20;
  if (E.isLeft(result)) return { model: modelName, name, batchSize, peakMB: peakMB(), heapMB, failure: result.left.message.slice(0, 160) };
  const fine = result.right.history[1]!;
  return { model: modelName, name, batchSize, microBatch: fine.microBatch, epochSeconds: fine.trainMs / 1000, peakMB: peakMB(), heapMB };
};

export const run = async (): Promise<void> => {
  console.log(`Micro-batches: one epoch of a full fine-tune of a 224² MobileNetV2 on ${IMAGES} images (wasm + kernel pack, 1 thread), each row in its own process`);
  const rows: Row[] = [];
  for (const [k] of ROWS.entries()) {
    const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--row', String(k)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const row = JSON.parse(out.split('\n').find((l) => l.startsWith('ROW '))!.slice(4)) as Row;
    rows.push(row);
    const what = row.failure !== undefined ? `failed: ${row.failure}` : `${row.epochSeconds!.toFixed(1)} s per epoch (passes of ${row.microBatch})`;
    console.log(`  ${row.model.padEnd(26)} ${row.name.padEnd(38)} ${what}; peak RSS ${row.peakMB.toFixed(0)} MB, wasm heap ${row.heapMB.toFixed(0)} MB`);
  }
  for (const model of Object.keys(MODELS)) {
    const [split, eight] = rows.filter((r) => r.model === model);
    if (split?.epochSeconds !== undefined && eight?.epochSeconds !== undefined) {
      console.log(`  ${model}: batch 32 by default ÷ batch 8: ${(split.epochSeconds / eight.epochSeconds).toFixed(2)}× the time per epoch, ${(split.peakMB / eight.peakMB).toFixed(2)}× the peak memory`);
    }
  }
  writeFileSync(RESULTS, `${JSON.stringify({ command: 'npm run bench -- microbatch', date: new Date().toISOString().slice(0, 10), images: IMAGES, rows }, null, 1)}\n`);
};

const at = process.argv.indexOf('--row');
if (at >= 0) {
  let row: Row;
  try {
    row = await measure(Number(process.argv[at + 1]));
  } catch (thrown) {
    row = { ...ROWS[Number(process.argv[at + 1])]!, peakMB: peakMB(), heapMB: 0, failure: String(thrown).slice(0, 160) } as Row;
  }
  console.log(`ROW ${JSON.stringify(row)}`);
  process.exit(0);
}
