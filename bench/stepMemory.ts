/**
 * What a training step holds in memory, per example, against the estimate the backend plans
 * micro-batches with (src/backends/tfjs/memory.ts): on wasm with the kernel pack, for each model and
 * each kind of step (a pretrained full fine-tune and partial fine-tune, whose layers run in
 * inference mode; a model from random weights, in training mode), one step's peak tensor bytes
 * (tfjs's `tf.profile`) at two batch sizes; their difference per example, divided by the bytes of
 * the trainable part's layer outputs per example, is the ratio the constants
 * `STEP_BYTES_PER_OUTPUT_BYTE` and `..._TRAINING_MODE` must cover.
 *
 * Models: the real Keras MobileNetV2 (224²) and InceptionV3 (299²) of the `nsfwjs` package, a
 * conv–BatchNorm residual net built in code (64²), and the two committed MNIST sources (28²).
 * Run: npm run bench -- memory. Each model runs in a process of its own (a wasm heap only grows).
 * Results: docs/results/step-memory.json.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { either as E } from 'fp-ts';
import type { Phase, TrainablePolicy } from 'transferkit';
import { fromLayersModel, setupBackend } from 'transferkit/tfjs';
import { STEP_BYTES_MARGIN, STEP_BYTES_PER_OUTPUT_BYTE, STEP_BYTES_PER_OUTPUT_BYTE_TRAINING_MODE } from '../src/backends/tfjs/memory';
import { loadInceptionV3, loadMobileNetV2 } from '../scripts/pretrained/model';
import { loadSourceModel } from '../scripts/mnist/sourceModel';

const RESULTS = fileURLToPath(new URL('../docs/results/step-memory.json', import.meta.url));

/** A conv–BatchNorm–ReLU residual net (ResNet's basic blocks, three stages) on 64² RGB. */
const residualNet = (): tfl.LayersModel => {
  const init = (k: number) => tfl.initializers.heNormal({ seed: k });
  const input = tfl.input({ shape: [64, 64, 3] });
  const cbr = (x: tfl.SymbolicTensor, filters: number, strides: number, k: number, relu = true): tfl.SymbolicTensor => {
    const c = tfl.layers.conv2d({ filters, kernelSize: 3, strides, padding: 'same', useBias: false, kernelInitializer: init(k) }).apply(x);
    const b = tfl.layers.batchNormalization().apply(c) as tfl.SymbolicTensor;
    return relu ? (tfl.layers.reLU().apply(b) as tfl.SymbolicTensor) : b;
  };
  let x = cbr(input, 16, 1, 0);
  let k = 1;
  for (const [filters, strides] of [[16, 1], [32, 2], [64, 2]] as const) {
    const shortcut = strides === 1 ? x : cbr(x, filters, strides, k++, false);
    const y = cbr(cbr(x, filters, strides, k++), filters, 1, k++, false);
    x = tfl.layers.reLU().apply(tfl.layers.add().apply([y, shortcut])) as tfl.SymbolicTensor;
  }
  const pooled = tfl.layers.globalAveragePooling2d({}).apply(x);
  return tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 10, activation: 'softmax' }).apply(pooled) as tfl.SymbolicTensor });
};

const MODELS: Record<string, { load: () => Promise<tfl.LayersModel>; batches: readonly [number, number] }> = {
  'MobileNetV2 224² (nsfwjs)': { load: loadMobileNetV2, batches: [2, 4] },
  'InceptionV3 299² (nsfwjs)': { load: loadInceptionV3, batches: [1, 2] },
  'residual net 64²': { load: async () => residualNet(), batches: [4, 12] },
  'MNIST CNN 28²': { load: () => loadSourceModel('cnn'), batches: [16, 48] },
  'MNIST MobileNet-style 28²': { load: () => loadSourceModel('mobilenet'), batches: [16, 48] },
};

const STEPS: Record<string, { trains: TrainablePolicy; start: 'pretrained' | 'random' }> = {
  'full fine-tune': { trains: { kind: 'all' }, start: 'pretrained' },
  'partial fine-tune (top quarter)': { trains: { kind: 'top-fraction', fraction: 0.25 }, start: 'pretrained' },
  'from scratch (training mode)': { trains: { kind: 'all' }, start: 'random' },
};

interface Row {
  readonly model: string;
  readonly step: string;
  readonly batches: readonly [number, number];
  /** Peak tensor bytes of one step above the start, at each batch size. */
  readonly peakBytes: readonly [number, number];
  /** The trainable part's layer-output bytes per example (the estimate's unit). */
  readonly outputBytes: number;
  /** (peak at the larger batch − at the smaller) per example, ÷ outputBytes. */
  readonly ratio: number;
}

const unwrap = <A>(e: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.message);
  return e.right;
};

/** One model's rows, in this process. */
const measureModel = async (name: string): Promise<Row[]> => {
  unwrap(await setupBackend({ prefer: ['wasm'] })());
  const { load, batches } = MODELS[name]!;
  const source = await load();
  const backbone = unwrap(fromLayersModel(source));
  const tap = backbone.layers[backbone.top]!;
  const shape = source.inputs[0]!.shape.slice(1) as number[];
  const n = batches[1];
  const x = tf.randomUniform([n, ...shape], 0, 1, 'float32', 1);
  const rows: Row[] = [];
  for (const [step, { trains, start }] of Object.entries(STEPS)) {
    const model = unwrap(await backbone.build({ tap, head: { hidden: [], dropout: 0 }, classes: 3, pooling: 'average', start, seed: 1 })());
    const phase: Phase = { name: 'measured', trains, epochs: 1, learningRate: 1e-4, optimizer: 'adam', regularization: { l2: 0 } };
    const factor = start === 'random' ? STEP_BYTES_PER_OUTPUT_BYTE_TRAINING_MODE : STEP_BYTES_PER_OUTPUT_BYTE;
    const outputBytes = unwrap(model.planPhase(phase, n, Number.MAX_VALUE)).bytesPerExample / factor;
    const session = unwrap(await model.startPhase({ phase, inputs: x, labels: Int32Array.from({ length: n }, (_, i) => i % 3), batchSize: n, seed: 1, memoryBytes: Number.MAX_VALUE })());
    const peaks: number[] = [];
    for (const [k, b] of batches.entries()) {
      const indices = Int32Array.from({ length: b }, (_, i) => i);
      unwrap(await session.step(indices, 0)); // warm: kernels, the optimizer's state
      const before = tf.memory().numBytes;
      const profile = await tf.profile(async () => void unwrap(await session.step(indices, k + 1)));
      peaks.push(profile.peakBytes - before);
    }
    session.dispose();
    model.dispose();
    const ratio = (peaks[1]! - peaks[0]!) / (batches[1] - batches[0]) / outputBytes;
    rows.push({ model: name, step, batches, peakBytes: [peaks[0]!, peaks[1]!], outputBytes, ratio });
  }
  x.dispose();
  source.dispose();
  return rows;
};

export const run = async (): Promise<void> => {
  console.log('Step memory: peak tensor bytes of a training step per example ÷ the trainable part\'s layer-output bytes (wasm + kernel pack)');
  const rows: Row[] = [];
  for (const name of Object.keys(MODELS)) {
    const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--model', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 });
    const json = out.split('\n').find((l) => l.startsWith('ROWS '));
    if (json === undefined) throw new Error(`no rows from ${name}`);
    const got = JSON.parse(json.slice(5)) as Row[];
    got.forEach((r) => console.log(`  ${r.model.padEnd(28)} ${r.step.padEnd(32)} ${(r.outputBytes / 2 ** 20).toFixed(2).padStart(8)} MB/example of outputs: ratio ${r.ratio.toFixed(2)}`));
    rows.push(...got);
  }
  for (const training of [false, true]) {
    const mode = rows.filter((r) => r.step.includes('scratch') === training);
    const worst = Math.max(...mode.map((r) => r.ratio));
    const constant = training ? STEP_BYTES_PER_OUTPUT_BYTE_TRAINING_MODE : STEP_BYTES_PER_OUTPUT_BYTE;
    // Leave one model out: the margin over the other models' largest ratio against the left-out one's.
    const held = Object.keys(MODELS).map((name) => {
      const others = Math.max(...mode.filter((r) => r.model !== name).map((r) => r.ratio));
      const own = Math.max(...mode.filter((r) => r.model === name).map((r) => r.ratio));
      return { name, covered: STEP_BYTES_MARGIN * others >= own, rule: STEP_BYTES_MARGIN * others, own };
    });
    console.log(`  ${training ? 'training' : 'inference'} mode: largest ratio ${worst.toFixed(2)}, constant ${constant} (${(constant / worst).toFixed(2)}× it)`);
    for (const h of held) console.log(`    ${h.name} left out: ${STEP_BYTES_MARGIN} × the others' largest = ${h.rule.toFixed(2)} against its ${h.own.toFixed(2)}: ${h.covered ? 'covered' : 'NOT covered'}`);
  }
  writeFileSync(RESULTS, `${JSON.stringify({ command: 'npm run bench -- memory', date: new Date().toISOString().slice(0, 10), rows }, null, 1)}\n`);
};

const at = process.argv.indexOf('--model');
if (at >= 0) {
  const rows = await measureModel(process.argv[at + 1]!);
  console.log(`ROWS ${JSON.stringify(rows)}`);
}
