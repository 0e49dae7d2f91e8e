/**
 * The trainable part's 1×1 convolutions on wasm with fresh operands, as a training step sees them:
 * every call gets new buffers (made outside the timing), so XNNPACK's packed operator, which tfjs
 * keeps per operand buffer, is never reused — a bench that repeats a call on the same tensors would
 * measure the packing once. Side by side, alternating, median ms of 7 calls after a warm-up:
 * - the filter gradient Xᵀ·dY: the pack's direct `outerSum` (heap.wat) against the matrix product
 *   it replaced (conv.ts: transpose X, then XNNPACK's product, which packs dY);
 * - the forward product X·W + b and the input gradient dY·Wᵀ: the pack's `TransferkitRowsTimes`
 *   (heap.wat's rowsTimes) against tf.fused.conv2d and tf.matMul (XNNPACK, which packs W).
 * The shapes: every 1×1 layer shape of a 224² MobileNetV2 full fine-tune at batch 8, and of the
 * partial fine-tune's blocks at 7² with the batch of 32 split over two threads (16) and whole.
 * Run: npm run bench -- fresh
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { either as E } from 'fp-ts';
import { registerTransferKernels } from 'transferkit/tfjs';
import { ROWS_TIMES, useDirectPointwise } from '../src/backends/tfjs/kernels/register';

/** [batch, side, cin, cout]. */
const SHAPES: ReadonlyArray<readonly [number, number, number, number]> = [
  [8, 112, 16, 96],
  [8, 112, 32, 16],
  [8, 56, 24, 144],
  [8, 56, 144, 24],
  [8, 28, 32, 192],
  [8, 28, 192, 32],
  [8, 14, 64, 384],
  [8, 14, 384, 64],
  [8, 14, 96, 576],
  [8, 14, 576, 96],
  [8, 7, 160, 960],
  [8, 7, 960, 160],
  [8, 7, 320, 1280],
  [16, 7, 160, 960],
  [16, 7, 960, 160],
  [16, 7, 960, 320],
  [16, 7, 320, 1280],
  [32, 7, 160, 960],
  [32, 7, 960, 320],
  [32, 7, 320, 1280],
];

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Milliseconds of `f` on fresh copies of `operands` (copied outside the timing), its output read. */
const timed = (operands: ReadonlyArray<tf.Tensor>, f: (...t: tf.Tensor[]) => tf.Tensor): number => {
  const fresh = operands.map((t) => tf.add(t, 0));
  const start = performance.now();
  const out = tf.tidy(() => f(...fresh));
  out.dataSync();
  const ms = performance.now() - start;
  tf.dispose([out, ...fresh]);
  return ms;
};

export const run = async (): Promise<void> => {
  await tf.setBackend('wasm');
  const pack = registerTransferKernels('wasm');
  if (E.isLeft(pack)) throw new Error(pack.left.message);
  console.log('1×1 convolutions on wasm with fresh operands, median ms of 7 calls (old ÷ new in brackets)');
  console.log('  shape                       | filter gradient: product → outerSum | forward: XNNPACK → rows | input gradient: XNNPACK → rows');
  try {
    for (const [n, h, cin, cout] of SHAPES) {
      const m = n * h * h;
      const [x, dy, w, b] = [tf.randomNormal([m, cin]), tf.randomNormal([m, cout]), tf.randomNormal([cin, cout]), tf.randomNormal([cout])];
      const filterGrad = (a: tf.Tensor, d: tf.Tensor) =>
        tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.reshape(a, [n, h, h, cin]), dy: tf.reshape(d, [n, h, h, cout]) }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', filterShape: [1, 1, cin, cout] }) as tf.Tensor;
      const variants: Record<string, () => number> = {
        product: () => (useDirectPointwise(false), timed([x, dy], filterGrad)),
        outerSum: () => (useDirectPointwise(true), timed([x, dy], filterGrad)),
        xnnForward: () => timed([x, w, b], (a, k, c) => tf.fused.conv2d({ x: tf.reshape(a, [n, h, h, cin]) as tf.Tensor4D, filter: tf.reshape(k, [1, 1, cin, cout]) as tf.Tensor4D, strides: 1, pad: 'valid', bias: c })),
        rowsForward: () => timed([x, w, b], (a, k, c) => tf.engine().runKernel(ROWS_TIMES, { a, b: k, bias: c }) as tf.Tensor),
        xnnInput: () => timed([dy, w], (d, k) => tf.matMul(d, tf.transpose(k))),
        rowsInput: () => timed([dy, w], (d, k) => tf.engine().runKernel(ROWS_TIMES, { a: d, b: tf.transpose(k) }) as tf.Tensor),
      };
      const times: Record<string, number[]> = {};
      for (let round = 0; round < 8; round++) for (const [name, f] of Object.entries(variants)) (times[name] ??= []).push(f());
      const ms = (name: string): number => median(times[name]!.slice(1));
      const pair = (old: string, now: string, ok = true): string => (ok ? `${ms(old).toFixed(1).padStart(6)} → ${ms(now).toFixed(1).padStart(6)} (${(ms(old) / ms(now)).toFixed(2)}×)` : '—'.padStart(24));
      console.log(`  ${`${n} × ${h}² × ${cin} → ${cout}`.padEnd(28)}| ${pair('product', 'outerSum').padEnd(36)}| ${pair('xnnForward', 'rowsForward').padEnd(24)}| ${pair('xnnInput', 'rowsInput', cin % 8 === 0)}`);
      tf.dispose([x, dy, w, b]);
    }
  } finally {
    useDirectPointwise(true);
    pack.right.unregister();
  }
};
