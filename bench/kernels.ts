/**
 * Each kernel of transferkit's pack against the stock kernel it replaces, on the shapes of a small
 * MNIST CNN and of MobileNetV2's blocks, on cpu and wasm: median ms of 5 calls, side by side.
 * `KERNEL_PACK` lists a replacement only where this measured it faster.
 * Run: npm run bench -- kernels   (KERNELS_BACKENDS=wasm for wasm only: cpu's stock kernels take minutes)
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { either as E } from 'fp-ts';
import { PACK_KERNELS, registerTransferKernels } from 'transferkit/tfjs';
import { adam } from '../src/backends/tfjs/kernels/adam';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Case {
  readonly kernel: string;
  readonly what: string;
  readonly inputs: () => Record<string, tf.Tensor>;
  readonly attrs: Record<string, unknown>;
  /** What to time instead of running `kernel` (for a gradient, which is not one kernel). */
  readonly run?: (inputs: Record<string, tf.Tensor>) => tf.Tensor;
}

const conv = (n: number, h: number, cin: number, k: number, cout: number, stride: number, pad: 'same' | 'valid', depthwise: boolean): Case[] => {
  const info = tf.backend_util.computeConv2DInfo([n, h, h, cin], [k, k, cin, cout], stride, 1, pad, undefined, depthwise);
  const dyShape = [n, info.outHeight, info.outWidth, info.outChannels];
  const what = `${depthwise ? 'depthwise ' : ''}${h}²×${cin} k${k} s${stride} → ${info.outChannels}, batch ${n}`;
  const common = depthwise ? { strides: stride, dilations: 1, pad } : { strides: stride, pad, dataFormat: 'NHWC' };
  const prefix = depthwise ? 'DepthwiseConv2dNative' : 'Conv2D';
  return [
    { kernel: `${prefix}BackpropFilter`, what, inputs: () => ({ x: tf.randomNormal([n, h, h, cin]), dy: tf.randomNormal(dyShape) }), attrs: { ...common, filterShape: [k, k, cin, cout] } },
    { kernel: `${prefix}BackpropInput`, what, inputs: () => ({ dy: tf.randomNormal(dyShape), filter: tf.randomNormal([k, k, cin, cout]) }), attrs: { ...common, inputShape: [n, h, h, cin] } },
  ];
};

/** The gradient tfjs's registry holds for clipByValue (the pack replaces it), on x and dy. */
const clipGradient = ({ x, dy }: Record<string, tf.Tensor>): tf.Tensor =>
  (tf.getGradient('ClipByValue').gradFunc(dy!, [x!], { clipValueMin: 0, clipValueMax: 6 }) as { x: () => tf.Tensor }).x();

/** The trainable weights of MobileNetV2's last block (block_16, Conv_1) and a 5-class head. */
const LAST_BLOCK_WEIGHTS = [[1, 1, 160, 960], [960], [960], [3, 3, 960, 1], [960], [960], [1, 1, 960, 320], [320], [320], [1, 1, 320, 1280], [1280], [1280], [1280, 5], [5]];

/** One Adam step over the inputs' `w*` variables with their `g*` gradients, by the optimizer the session would use. */
const optimizers = new WeakMap<object, tf.Optimizer>();
const adamStep = (inputs: Record<string, tf.Tensor>): tf.Tensor => {
  let optimizer = optimizers.get(inputs);
  if (optimizer === undefined) {
    optimizer = adam(1e-3);
    optimizers.set(inputs, optimizer);
  }
  const grads: tf.NamedTensorMap = {};
  LAST_BLOCK_WEIGHTS.forEach((_, i) => void (grads[(inputs[`w${i}`] as tf.Variable).name] = inputs[`g${i}`]!));
  optimizer.applyGradients(grads);
  return tf.clone(inputs['w0']!);
};

export const CASES: Case[] = [
  ...conv(64, 28, 1, 3, 32, 1, 'valid', false),
  ...conv(64, 13, 32, 3, 64, 1, 'valid', false),
  ...conv(16, 14, 64, 1, 384, 1, 'valid', false),
  ...conv(16, 14, 384, 3, 1, 1, 'same', true),
  ...conv(16, 28, 192, 3, 1, 2, 'same', true),
  { kernel: 'Slice', what: 'a batch of 32 from 500 × 96² × 3 images', inputs: () => ({ x: tf.randomNormal([500, 96, 96, 3]) }), attrs: { begin: [64, 0, 0, 0], size: [32, 96, 96, 3] } },
  { kernel: 'Tile', what: 'a BatchNorm gradient: 1280 → 32 × 3 × 3 × 1280', inputs: () => ({ x: tf.randomNormal([1, 1, 1, 1280]) }), attrs: { reps: [32, 3, 3, 1] } },
  { kernel: 'BatchMatMul', what: 'dense gradient 64×1600 · (128×1600)ᵀ', inputs: () => ({ a: tf.randomNormal([1, 64, 128]), b: tf.randomNormal([1, 1600, 128]) }), attrs: { transposeA: false, transposeB: true } },
  { kernel: 'BatchMatMul', what: 'dense gradient (64×1600)ᵀ · 64×128', inputs: () => ({ a: tf.randomNormal([1, 64, 1600]), b: tf.randomNormal([1, 64, 128]) }), attrs: { transposeA: true, transposeB: false } },
  { kernel: 'Sum', what: 'a BatchNorm gradient: 32 × 3 × 3 × 1280 → 1280', inputs: () => ({ x: tf.randomNormal([32, 3, 3, 1280]) }), attrs: { axis: [0, 1, 2], keepDims: false } },
  { kernel: 'Sum', what: 'a conv bias gradient: 64 × 26 × 26 × 32 → 32', inputs: () => ({ x: tf.randomNormal([64, 26, 26, 32]) }), attrs: { axis: [0, 1, 2], keepDims: false } },
  {
    kernel: 'ClipByValue gradient',
    what: 'ReLU6 of 32 × 3 × 3 × 960',
    inputs: () => ({ x: tf.randomUniform([32, 3, 3, 960], -3, 9), dy: tf.randomNormal([32, 3, 3, 960]) }),
    attrs: {},
    run: clipGradient,
  },
  {
    kernel: 'Adam (TransferkitAdam)',
    what: 'one step: MobileNetV2 last block + head',
    inputs: () =>
      Object.fromEntries(LAST_BLOCK_WEIGHTS.flatMap((shape, i) => [[`w${i}`, tf.tidy(() => tf.variable(tf.randomNormal(shape)))], [`g${i}`, tf.randomNormal(shape)]])),
    attrs: {},
    run: adamStep,
  },
  ...[
    [26, 32],
    [11, 64],
  ].map(([h, c]) => {
    const out = Math.floor(h! / 2);
    return {
      kernel: 'MaxPoolGrad',
      what: `2×2 pool of ${h}²×${c}, batch 64`,
      inputs: () => ({ input: tf.randomNormal([64, h!, h!, c!]), dy: tf.randomNormal([64, out, out, c!]), output: tf.randomNormal([64, out, out, c!]) }),
      attrs: { filterSize: 2, strides: 2, pad: 'valid' },
    };
  }),
];

export const timeKernel = (c: Case): number | string => {
  const inputs = c.inputs();
  try {
    const times: number[] = [];
    for (let r = 0; r < 6; r++) {
      const start = performance.now();
      const out = c.run?.(inputs) ?? (tf.engine().runKernel(c.kernel, inputs, c.attrs as tf.NamedAttrMap) as tf.Tensor);
      out.dataSync();
      times.push(performance.now() - start);
      out.dispose();
    }
    return median(times.slice(1));
  } catch (error) {
    return (error as Error).message.split('\n')[0]!.slice(0, 60);
  } finally {
    optimizers.get(inputs)?.dispose();
    tf.dispose(Object.values(inputs));
  }
};

export const run = async (): Promise<void> => {
  console.log('Stock kernel vs transferkit kernel pack, median ms of 5 calls after a warm-up');
  for (const backend of (process.env['KERNELS_BACKENDS'] ?? 'wasm,cpu').split(',')) {
    await tf.setBackend(backend);
    const stock = CASES.map(timeKernel);
    // Every kernel, on both backends: this is what decides which ones KERNEL_PACK lists.
    const pack = registerTransferKernels(backend, { kernels: PACK_KERNELS });
    if (E.isLeft(pack)) throw new Error(pack.left.message);
    const ours = CASES.map(timeKernel);
    pack.right.unregister();
    console.log(`\n  ${backend}`);
    CASES.forEach((c, i) => {
      const s = stock[i]!;
      const o = ours[i]!;
      const ratio = typeof s === 'number' && typeof o === 'number' ? `${(s / o).toFixed(1)}× faster` : '';
      const show = (v: number | string): string => (typeof v === 'number' ? `${v.toFixed(1)} ms` : `fails: ${v}`);
      console.log(`  ${c.kernel.padEnd(36)} ${c.what.padEnd(40)} stock ${show(s).padEnd(14)} pack ${show(o).padEnd(10)} ${ratio}`);
    });
  }
};
