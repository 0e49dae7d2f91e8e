/**
 * What the pack's heap kernels, and the suffix's direct convolutions (suffix.ts: no input gradient
 * for a convolution of cached activations) and BatchNorm folding (suffix.ts: in inference mode,
 * into the convolution before it), add to training, side by side: `transfer` on one thread, the
 * wasm backend with the whole pack, and with one of them left out — the heap `Sum` over leading
 * axes and the one-pass clipByValue gradient; the fused Adam; the direct convolutions; the folding;
 * the direct depthwise gradients (kernels/depthwise.ts, against conv.ts's composite ones); the
 * Identity that shares its input's buffer; the suffix's one-pass ReLU6; the direct 1×1 filter
 * gradient (heap.wat's outerSum, against conv.ts's matrix product); the suffix's 1×1 convolutions as
 * products of rows (heap.wat's rowsTimes, against tf.fused.conv2d) —
 * alternating for three rounds so that the machine's drift hits every variant. Four workloads: the MNIST CNN of
 * `bench -- cnn` (a full fine-tune with SGD, batch 64; its bias gradients are sums) and
 * MobileNetV2's last block at 96² (a partial fine-tune with Adam, batch 32; ReLU6 and BatchNorm
 * gradients) and the MNIST study's source architecture (three stride-2 conv–BatchNorm–ReLU blocks;
 * a full fine-tune with Adam, batch 32, as the study's full fine-tunes run) and MobileNetV2 at 224²,
 * a full fine-tune with Adam at batch 8 on 32 images (job (c) of `bench -- workload`, random weights).
 * Run: npm run bench -- heap   (HEAP_WORKLOADS=224 runs only the workloads whose names contain it)
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';
import { either as E } from 'fp-ts';
import { fineTunePhase, makeRecipe, transfer, type Recipe } from 'transferkit';
import { fromLayersModel, PACK_KERNELS, registerTransferKernels, type PackKernel } from 'transferkit/tfjs';
import { useDirectDepthwise } from '../src/backends/tfjs/kernels/depthwise';
import { useDirectPointwise } from '../src/backends/tfjs/kernels/register';
import { useDirectConvs, useFolding, useOnePassClip, useRowsProducts } from '../src/backends/tfjs/suffix';
import { sourceArchitecture } from '../scripts/mnist/sourceModel';
import { cnn } from './cnnTraining';
import { mobileNetV2 } from './support/mobilenetv2';

/** The groups left out in turn. */
const GROUPS: Record<string, ReadonlySet<string>> = {
  'heap Sum and ReLU6 gradient': new Set(['Sum', 'TransferkitClipByValueGrad']),
  'fused Adam': new Set(['TransferkitAdam']),
  'shared Identity': new Set(['Identity']),
};

interface Workload {
  readonly name: string;
  readonly model: () => tfl.LayersModel;
  readonly top?: string;
  readonly inputs: () => tf.Tensor;
  readonly batch: number;
  readonly recipe: (layers: ReadonlyArray<{ name: string; params: number }>) => E.Either<unknown, Recipe>;
}

const WORKLOADS: ReadonlyArray<Workload> = [
  {
    name: 'MNIST CNN, full fine-tune, batch 64',
    model: cnn,
    inputs: () => tf.randomNormal([1280, 28, 28, 1], 0, 1, 'float32', 1),
    batch: 64,
    recipe: () => {
      const { minSteps: _floor, ...phase } = fineTunePhase({ kind: 'all' });
      return makeRecipe({ tap: { kind: 'top' }, phases: [{ ...phase, epochs: 2, optimizer: 'sgd', learningRate: 0.01 }] });
    },
  },
  {
    name: "MobileNetV2 96², last block, batch 32",
    model: () => mobileNetV2(96),
    top: 'out_relu',
    inputs: () => tf.randomNormal([320, 96, 96, 3], 0, 1, 'float32', 2),
    batch: 32,
    recipe: (layers) => {
      const count = layers.filter((l) => /^(block_16_|Conv_1)/.test(l.name) && l.params > 0).length;
      return makeRecipe({
        tap: { kind: 'top' },
        phases: [{ name: 'last block', trains: { kind: 'top-layers', count }, epochs: 2, learningRate: 1e-3, optimizer: 'adam', regularization: { l2: 0 } }],
      });
    },
  },
  {
    name: 'MobileNetV2 224², full fine-tune, batch 8',
    model: () => mobileNetV2(224),
    top: 'out_relu',
    inputs: () => tf.randomNormal([32, 224, 224, 3], 0, 1, 'float32', 4),
    batch: 8,
    recipe: () => makeRecipe({ tap: { kind: 'top' }, phases: [{ name: 'all', trains: { kind: 'all' }, epochs: 1, learningRate: 1e-4, optimizer: 'adam', regularization: { l2: 0 } }] }),
  },
  {
    name: "MNIST study's source (conv–BN–ReLU), full fine-tune, batch 32",
    model: () => sourceArchitecture(1),
    inputs: () => tf.randomNormal([5120, 28, 28, 1], 0, 1, 'float32', 3),
    batch: 32,
    recipe: () => {
      const { minSteps: _floor, ...phase } = fineTunePhase({ kind: 'all' });
      return makeRecipe({ tap: { kind: 'top' }, phases: [{ ...phase, epochs: 2 }] });
    },
  },
];

/** Training samples per second of the workload's steps (the phase's `trainMs`, caching excluded). */
const rate = async (w: Workload): Promise<number> => {
  const model = w.model();
  const x = w.inputs();
  try {
    const n = x.shape[0]!;
    const backbone = fromLayersModel(model, w.top === undefined ? {} : { top: w.top });
    if (E.isLeft(backbone)) throw new Error(backbone.left.message);
    const recipe = w.recipe(backbone.right.layers);
    if (E.isLeft(recipe)) throw new Error('bad recipe');
    const result = await transfer(backbone.right, recipe.right, { x, y: Array.from({ length: n }, (_, i) => i % 5) }, { seed: 1, batchSize: w.batch })();
    if (E.isLeft(result)) throw new Error(result.left.message);
    result.right.model.dispose();
    const phase = result.right.history[0]!;
    return (n * phase.epochs.length) / (phase.trainMs / 1000);
  } finally {
    x.dispose();
    model.dispose();
  }
};

export const run = async (): Promise<void> => {
  await tf.setBackend('wasm');
  const variants: Record<string, ReadonlyArray<PackKernel>> = { 'whole pack': PACK_KERNELS };
  for (const [group, left] of Object.entries(GROUPS)) variants[`without the ${group}`] = PACK_KERNELS.filter((k) => !left.has(k));
  const INDIRECT = 'without direct convolutions';
  const UNFOLDED = 'without BatchNorm folding';
  const COMPOSITE_DEPTHWISE = 'without direct depthwise gradients';
  variants[INDIRECT] = PACK_KERNELS;
  variants[UNFOLDED] = PACK_KERNELS;
  const TWO_PASS_CLIP = 'without the one-pass ReLU6';
  const POINTWISE_PRODUCT = 'without the direct 1×1 filter gradient';
  const XNNPACK_PRODUCTS = 'without 1×1 convolutions as products of rows';
  variants[COMPOSITE_DEPTHWISE] = PACK_KERNELS;
  variants[TWO_PASS_CLIP] = PACK_KERNELS;
  variants[POINTWISE_PRODUCT] = PACK_KERNELS;
  variants[XNNPACK_PRODUCTS] = PACK_KERNELS;
  console.log('transfer() on one wasm thread, training samples/s; three alternating rounds');
  const only = process.env['HEAP_WORKLOADS'];
  for (const w of WORKLOADS.filter((x) => only === undefined || x.name.includes(only))) {
    const rates: Record<string, number[]> = {};
    for (let round = 0; round < 3; round++) {
      for (const [name, kernels] of Object.entries(variants)) {
        const pack = registerTransferKernels('wasm', { kernels });
        if (E.isLeft(pack)) throw new Error(pack.left.message);
        useDirectConvs(name !== INDIRECT);
        useFolding(name !== UNFOLDED);
        useDirectDepthwise(name !== COMPOSITE_DEPTHWISE);
        useOnePassClip(name !== TWO_PASS_CLIP);
        useDirectPointwise(name !== POINTWISE_PRODUCT);
        useRowsProducts(name !== XNNPACK_PRODUCTS);
        try {
          (rates[name] ??= []).push(await rate(w));
        } finally {
          useDirectConvs(true);
          useFolding(true);
          useDirectDepthwise(true);
          useOnePassClip(true);
          useDirectPointwise(true);
          useRowsProducts(true);
          pack.right.unregister();
        }
      }
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[1]!;
    const whole = median(rates['whole pack']!);
    console.log(`  ${w.name}`);
    for (const [name, xs] of Object.entries(rates)) {
      const ratio = name === 'whole pack' ? '' : `   whole pack / this: ${(whole / median(xs)).toFixed(2)}×`;
      const digits = whole < 100 ? 1 : 0;
      console.log(`    ${name.padEnd(44)} ${xs.map((v) => v.toFixed(digits).padStart(5)).join(' ')}   median ${median(xs).toFixed(digits)}${ratio}`);
    }
  }
};
