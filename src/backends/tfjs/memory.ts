/**
 * Memory planning for training steps: how much a step's forward and backward pass holds per
 * example, estimated from the trainable part's shapes; how much the backend can give; and so how
 * many examples one pass may hold (the micro-batch), the rest of the batch accumulating gradients
 * over further passes. What every tfjs model kind shares.
 */
import * as tf from '@tensorflow/tfjs-core';
import { either as E } from 'fp-ts';
import { notSupported, type TransferError } from '../../core/errors';
import { isHeapBackend } from './kernels/heap';
import { outputShapes, type Layer, type SymbolicTensor } from './graph';

/**
 * The largest heap tfjs-backend-wasm 4.22 can grow to, in bytes (its build's maximum memory:
 * 4 GiB less one 64 KiB page). Past it the module traps (`Aborted()`) and computes no more.
 */
export const WASM_HEAP_BYTES = 4_294_901_760;

/**
 * The share of what the wasm heap has left that a training step may plan to fill: the rest is
 * slack for what the estimate does not see (the allocator's fragmentation, XNNPACK's packed
 * weights, the optimizer's temporaries).
 */
export const WASM_HEAP_SHARE = 0.8;

/**
 * The most a pass of a step may plan to fill on wasm, in bytes (2 GiB), even where the heap has
 * more: a pass near the heap's edge ran slower. Measured by `npm run bench -- microbatch`
 * (docs/results/micro-batches.json; one epoch of a full fine-tune at batch 32, one thread, two
 * runs): a 224² MobileNetV2 took 25.4 and 27.4 s in one pass of 32 (a 3.6 GB heap), and 12.1–17.0 s
 * in passes of 2 to 14, whose differences were within the runs' spread; the real InceptionV3 at
 * 299² trapped in one pass of 32, and took 234–253 s in passes of 4 to 8 and 279–280 s in passes
 * of 2. This cap makes passes of 9 and 5 there.
 */
export const WASM_PASS_BYTES = 2 * 1024 ** 3;

/**
 * The margin over the largest ratio measured: leaving each of the five models out in turn, this
 * margin over the other four's largest ratio still covered the one left out, in both modes
 * (`npm run bench -- memory` prints the check).
 */
export const STEP_BYTES_MARGIN = 1.1;

/**
 * Bytes a training step holds per example at its peak, per byte of the trainable part's layer
 * outputs (its inputs and every output of the layers that run in the step, the head's included):
 * what the tape keeps for the backward pass, the gradients, and the temporaries of fused ops.
 * Measured by `npm run bench -- memory` (bench/stepMemory.ts; docs/results/step-memory.json):
 * tfjs's own count of one step's peak tensor bytes, per example between two batch sizes, on wasm
 * with the kernel pack, for a full and a partial fine-tune of five models (the real MobileNetV2
 * and InceptionV3 of the `nsfwjs` package, a conv–BatchNorm residual net, the two MNIST sources).
 * In inference mode (BatchNorm on its moving statistics, as a pretrained start trains) the ratios
 * were 1.79–2.72, the largest InceptionV3's partial fine-tune; this is 2.72 × {@link STEP_BYTES_MARGIN}.
 */
export const STEP_BYTES_PER_OUTPUT_BYTE = 3;

/**
 * {@link STEP_BYTES_PER_OUTPUT_BYTE} for a model from random weights, whose layers run in training
 * mode (BatchNorm on batch statistics, through tfjs-layers' own ops, which keep more for their
 * gradients): measured the same way, 5.86–6.80 (the residual net the largest); this is 6.80 ×
 * {@link STEP_BYTES_MARGIN}.
 */
export const STEP_BYTES_PER_OUTPUT_BYTE_TRAINING_MODE = 7.5;

/** Floats per example of a tensor or layer output of this shape (batch dimension first; an open dimension counts 1). */
const perExample = (shape: ReadonlyArray<number | null>): number => shape.slice(1).reduce<number>((n, d) => n * (d ?? 1), 1);

/**
 * Floats a layer's output holds per example; a layer that runs many ops (a GraphModel's segment)
 * says how many all of them output, as `activationFloats`.
 */
const outputFloats = (layer: Layer): number => {
  const inner = (layer as { activationFloats?: unknown }).activationFloats;
  return typeof inner === 'number' ? inner : outputShapes(layer).reduce((n, s) => n + perExample(s), 0);
};

/** What a training step of a phase needs, per example, and what it may use. */
export interface StepMemory {
  /** Estimated peak bytes of one training step, per example. */
  readonly bytesPerExample: number;
  /** Bytes a step may fill; `undefined` where the backend sets no limit transferkit knows (cpu, webgl) and none was given. */
  readonly budgetBytes: number | undefined;
  /** Examples per forward and backward pass: the batch size, or fewer when the batch would not fit. */
  readonly microBatch: number;
}

/**
 * Estimated peak bytes per example of a step that trains `layers` (the suffix that runs each step
 * and the head) on `inputs` (the cached tensors it reads).
 */
export const stepBytesPerExample = (layers: ReadonlyArray<Layer>, inputs: ReadonlyArray<SymbolicTensor>, trainingMode: boolean): number => {
  const floats = layers.reduce((n, l) => n + outputFloats(l), 0) + inputs.reduce((n, t) => n + perExample(t.shape), 0);
  return 4 * floats * (trainingMode ? STEP_BYTES_PER_OUTPUT_BYTE_TRAINING_MODE : STEP_BYTES_PER_OUTPUT_BYTE);
};

/**
 * The bytes a step may fill on the current backend: `given` when the caller set it; on wasm,
 * {@link WASM_HEAP_SHARE} of what its heap has left beside the tensors alive now, and at most
 * {@link WASM_PASS_BYTES}; elsewhere no limit (the cpu backend grows the process, and webgl's
 * texture memory is not known from here).
 */
export const stepBudget = (given: number | undefined): number | undefined => {
  if (given !== undefined) return given;
  if (!isHeapBackend(tf.backend())) return undefined;
  return Math.min(WASM_PASS_BYTES, WASM_HEAP_SHARE * Math.max(0, WASM_HEAP_BYTES - tf.memory().numBytes));
};

const mb = (bytes: number): string => `${Math.round(bytes / 2 ** 20).toLocaleString('en')} MB`;

/**
 * How many examples one pass of a step of `batchSize` may hold, or `NotSupported` when not even
 * one fits, saying what would: a recipe that trains less of the backbone, or smaller inputs.
 */
export const planStep = (phase: string, bytesPerExample: number, budgetBytes: number | undefined, batchSize: number): E.Either<TransferError, StepMemory> => {
  const fits = budgetBytes === undefined ? batchSize : Math.min(batchSize, Math.floor(budgetBytes / bytesPerExample));
  if (fits >= 1) return E.right({ bytesPerExample, budgetBytes, microBatch: fits });
  return E.left(
    notSupported(
      `phase ${phase}`,
      `a step whose one example fits the ${mb(budgetBytes!)} the backend can give it: train less of the backbone (a partial fine-tune, or a head on cached features), tap an earlier layer, or use smaller inputs`,
      `a step estimated at ${mb(bytesPerExample)} per example`,
    ),
  );
};
