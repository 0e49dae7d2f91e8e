/**
 * Compiling a frozen, inference-only part of a graph for speed: each convolution (or depthwise
 * convolution) followed by a BatchNormalization becomes one convolution with the normalisation
 * folded into its weights and bias, and a following ReLU / ReLU6 / ELU / sigmoid runs fused in the
 * same op (tfjs's `fused` convolutions). Every other layer runs as itself, in inference mode.
 *
 * Folding is exact algebra — BN(conv(x, W) + b) = conv(x, W·s) + (b − μ)·s + β with
 * s = γ / √(σ² + ε) per output channel (Ioffe & Szegedy, "Batch Normalization", 2015, §3.2, on
 * inference with the population statistics) — so outputs differ from the unfolded graph only by
 * float32 rounding. It is valid only for a part that never trains: the statistics are baked in.
 */
import * as tf from '@tensorflow/tfjs-core';
import { yieldToEventLoop } from '../../core/yieldToEventLoop';
import type { Layer, SymbolicTensor } from './graph';
import type { InputRows } from './inputRows';

type Activation = 'linear' | 'relu' | 'relu6' | 'elu' | 'sigmoid';

/** One step of the compiled program. */
type Step =
  | { readonly kind: 'layer'; readonly layer: Layer; readonly inputs: ReadonlyArray<number>; readonly outputs: ReadonlyArray<number> }
  | {
      readonly kind: 'conv';
      readonly depthwise: boolean;
      readonly filter: tf.Tensor4D;
      readonly bias: tf.Tensor1D;
      readonly strides: [number, number];
      readonly pad: 'same' | 'valid';
      readonly dilations: [number, number];
      readonly activation: Activation;
      readonly input: number;
      readonly output: number;
      /** The source layers the step replaces, for reports. */
      readonly layers: ReadonlyArray<string>;
    };

/** A compiled frozen prefix. */
export interface CompiledPrefix {
  /** Runs one batch; one tensor per requested output, which the caller disposes. */
  run(x: tf.Tensor): tf.Tensor[];
  /** Each folded chain, as its layer names (conv, BatchNorm[, activation]). */
  readonly folded: ReadonlyArray<ReadonlyArray<string>>;
  /** Frees the folded weights (the graph's own layers are untouched). */
  dispose(): void;
}

/** A layer config's size or stride: one number for both axes, or a pair. */
export const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [Number(v[0]), Number(v[1] ?? v[0])] : [Number(v), Number(v)]);

const nodeOf = (layer: Layer): { inputs: ReadonlyArray<SymbolicTensor>; outputs: ReadonlyArray<SymbolicTensor> } => {
  const node = layer.inboundNodes[0];
  return { inputs: node?.inputTensors ?? [], outputs: node?.outputTensors ?? [] };
};

const config = (layer: Layer): Record<string, unknown> => layer.getConfig() as Record<string, unknown>;

/** The fused activation a layer amounts to, if it is only an activation tfjs can fuse. */
const activationOf = (layer: Layer): Activation | undefined => {
  const c = config(layer);
  if (layer.getClassName() === 'ReLU') {
    const max = c['maxValue'];
    return max == null ? 'relu' : max === 6 ? 'relu6' : undefined;
  }
  if (layer.getClassName() === 'Activation') {
    const a = c['activation'];
    return a === 'relu' || a === 'relu6' || a === 'elu' || a === 'sigmoid' || a === 'linear' ? a : undefined;
  }
  return undefined;
};

export const weight = (layer: Layer, suffix: string): tf.Tensor | undefined =>
  layer.weights.find((w) => (w.originalName ?? w.name).endsWith(suffix))?.read();

/** Whether `conv` → `bn` can fold: channels-last, linear conv, BatchNorm on the last axis. */
export const foldable = (conv: Layer, bn: Layer): boolean => {
  const kind = conv.getClassName();
  if (kind !== 'Conv2D' && kind !== 'DepthwiseConv2D') return false;
  if (bn.getClassName() !== 'BatchNormalization') return false;
  const c = config(conv);
  const axis = config(bn)['axis'];
  return c['dataFormat'] === 'channelsLast' && c['activation'] === 'linear' && (c['padding'] === 'same' || c['padding'] === 'valid') && (axis === -1 || axis === 3);
};

/**
 * The conv's weights with `bn` folded in: filter and bias, computed with tfjs ops from the layers'
 * current weights, so that gradients reach the conv's kernel and bias and the BatchNorm's γ and β
 * when this runs under a gradient tape (the trainable suffix, suffix.ts). Its intermediate tensors
 * belong to the caller's scope.
 */
export const foldedWeights = (conv: Layer, bn: Layer): { filter: tf.Tensor4D; bias: tf.Tensor1D } => {
  const depthwise = conv.getClassName() === 'DepthwiseConv2D';
  const kernel = weight(conv, depthwise ? 'depthwise_kernel' : 'kernel')! as tf.Tensor4D;
  const outChannels = depthwise ? kernel.shape[2] * kernel.shape[3] : kernel.shape[3];
  const convBias = weight(conv, 'bias') ?? tf.zeros([outChannels]);
  const epsilon = Number(config(bn)['epsilon']);
  const gamma = weight(bn, 'gamma') ?? tf.ones([outChannels]);
  const beta = weight(bn, 'beta') ?? tf.zeros([outChannels]);
  const scale = tf.div(gamma, tf.sqrt(tf.add(weight(bn, 'moving_variance')!, epsilon)));
  const filter = depthwise
    ? tf.reshape(tf.mul(tf.reshape(kernel, [kernel.shape[0], kernel.shape[1], outChannels]), scale), kernel.shape)
    : tf.mul(kernel, scale);
  const bias = tf.add(tf.mul(tf.sub(convBias, weight(bn, 'moving_mean')!), scale), beta);
  return { filter: filter as tf.Tensor4D, bias: bias as tf.Tensor1D };
};

/** `foldedWeights` kept, for a compiled prefix that holds them until disposed. */
const fold = (conv: Layer, bn: Layer): { filter: tf.Tensor4D; bias: tf.Tensor1D } =>
  tf.tidy(() => {
    const { filter, bias } = foldedWeights(conv, bn);
    return { filter: tf.keep(filter), bias: tf.keep(bias) };
  });

/**
 * Compiles the part of a graph that computes `outputs` from `input`, for inference.
 *
 * @param fold - fold BatchNorm into convolutions and fuse activations (default true); false runs
 * every layer as itself, which is what the folded program is tested against
 */
export const compilePrefix = (input: SymbolicTensor, outputs: ReadonlyArray<SymbolicTensor>, options: { readonly fold?: boolean } = {}): CompiledPrefix => {
  // The layers needed, in dependency order.
  const order: Layer[] = [];
  const seen = new Set<Layer>();
  const visit = (t: SymbolicTensor): void => {
    if (t.id === input.id) return;
    const layer = t.sourceLayer as Layer;
    if (seen.has(layer)) return;
    seen.add(layer);
    for (const i of nodeOf(layer).inputs) visit(i);
    order.push(layer);
  };
  outputs.forEach(visit);

  // How many steps (or outputs) read each tensor: a tensor read only by the next layer of a chain
  // may disappear into it.
  const readers = new Map<number, number>();
  const readBy = new Map<number, Layer>();
  const read = (id: number): void => void readers.set(id, (readers.get(id) ?? 0) + 1);
  for (const layer of order) {
    for (const t of nodeOf(layer).inputs) {
      read(t.id);
      readBy.set(t.id, layer);
    }
  }
  outputs.forEach((t) => read(t.id));
  const onlyReader = (t: SymbolicTensor): Layer | undefined => (readers.get(t.id) === 1 ? readBy.get(t.id) : undefined);

  const steps: Step[] = [];
  const absorbed = new Set<Layer>();
  for (const layer of order) {
    if (absorbed.has(layer)) continue;
    const { inputs, outputs: outs } = nodeOf(layer);
    const bn = options.fold === false || outs.length !== 1 ? undefined : onlyReader(outs[0]!);
    if (bn !== undefined && foldable(layer, bn) && nodeOf(bn).inputs.length === 1) {
      const depthwise = layer.getClassName() === 'DepthwiseConv2D';
      const bnOut = nodeOf(bn).outputs[0]!;
      const next = onlyReader(bnOut);
      const activation = next === undefined ? undefined : activationOf(next);
      const chain = activation === undefined ? [layer, bn] : [layer, bn, next!];
      chain.forEach((l) => absorbed.add(l));
      const c = config(layer);
      const { filter, bias } = fold(layer, bn);
      steps.push({
        kind: 'conv',
        depthwise,
        filter,
        bias,
        strides: pair(c['strides']),
        pad: c['padding'] as 'same' | 'valid',
        dilations: pair(c['dilationRate']),
        activation: activation ?? 'linear',
        input: inputs[0]!.id,
        output: nodeOf(chain[chain.length - 1]!).outputs[0]!.id,
        layers: chain.map((l) => l.name),
      });
      continue;
    }
    steps.push({ kind: 'layer', layer, inputs: inputs.map((t) => t.id), outputs: outs.map((t) => t.id) });
  }

  const wanted = outputs.map((t) => t.id);
  const run = (x: tf.Tensor): tf.Tensor[] => {
    const values = new Map<number, tf.Tensor>([[input.id, x]]);
    const left = new Map(readers);
    const release = (id: number): void => {
      const n = (left.get(id) ?? 0) - 1;
      left.set(id, n);
      const value = values.get(id);
      if (n <= 0 && value !== undefined && id !== input.id) {
        value.dispose();
        values.delete(id);
      }
    };
    try {
      for (const step of steps) {
        if (step.kind === 'conv') {
          const at = values.get(step.input)!;
          const args = { x: at as tf.Tensor4D, filter: step.filter, strides: step.strides, pad: step.pad, dilations: step.dilations, bias: step.bias, activation: step.activation };
          values.set(step.output, step.depthwise ? tf.fused.depthwiseConv2d(args) : tf.fused.conv2d(args));
          release(step.input);
        } else {
          const args = step.inputs.map((id) => values.get(id)!);
          const produced = tf.tidy(() => step.layer.apply(args.length === 1 ? args[0]! : args, { training: false }) as tf.Tensor | tf.Tensor[]);
          const list = Array.isArray(produced) ? produced : [produced];
          step.outputs.forEach((id, k) => values.set(id, list[k]!));
          step.inputs.forEach(release);
        }
      }
      // Outputs of a layer that nothing reads are dropped; an output that is the input itself is
      // copied, so the caller may dispose every output.
      for (const [id, v] of values) if (id !== input.id && !wanted.includes(id)) v.dispose();
      return wanted.map((id) => (id === input.id ? x.clone() : values.get(id)!));
    } catch (thrown) {
      for (const [id, v] of values) if (id !== input.id) v.dispose();
      throw thrown;
    }
  };
  return {
    run,
    folded: steps.flatMap((step) => (step.kind === 'conv' ? [step.layers] : [])),
    dispose: () => {
      for (const step of steps) if (step.kind === 'conv') tf.dispose([step.filter, step.bias]);
    },
  };
};

/** Runs one batch of rows `[start, start + size)` through the prefix; `use` gets its outputs, disposed when it returns. */
const runBatch = (prefix: CompiledPrefix, x: InputRows, start: number, size: number, use: (outputs: tf.Tensor[], start: number, size: number) => void): void => {
  const batch = x.batch(start, size);
  let outputs: tf.Tensor[] = [];
  try {
    outputs = prefix.run(batch);
    use(outputs, start, size);
  } finally {
    tf.dispose([batch, ...outputs]);
  }
};

const checkBatchSize = (batchSize: number): void => {
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new RangeError(`batchSize ${batchSize} is not a positive integer`);
};

/**
 * Runs a compiled prefix over `x` a batch at a time: `use` gets each batch's outputs (and where the
 * batch starts, and its size), which are disposed when it returns, so memory holds one batch.
 */
export const forEachBatch = (prefix: CompiledPrefix, x: InputRows, batchSize: number, use: (outputs: tf.Tensor[], start: number, size: number) => void): void => {
  checkBatchSize(batchSize);
  const n = x.count;
  for (let start = 0; start < n; start += batchSize) runBatch(prefix, x, start, Math.min(batchSize, n - start), use);
};

/** Thrown by {@link forEachBatchUntil} when its signal fires: how many batches were done, of how many. */
export class Stopped extends Error {
  constructor(
    readonly done: number,
    readonly of: number,
  ) {
    super(`stopped after ${done} of ${of} batches`);
  }
}

/**
 * {@link forEachBatch} that lets the event loop run between two batches, so a timer, a UI or an
 * `AbortSignal` fired from elsewhere gets its turn; when `signal` has fired it throws
 * {@link Stopped} before the next batch (none starts after the signal).
 */
export const forEachBatchUntil = async (
  prefix: CompiledPrefix,
  x: InputRows,
  batchSize: number,
  signal: AbortSignal | undefined,
  use: (outputs: tf.Tensor[], start: number, size: number) => void,
): Promise<void> => {
  checkBatchSize(batchSize);
  const n = x.count;
  const batches = Math.ceil(n / batchSize);
  for (let b = 0; b < batches; b++) {
    if (b > 0) await yieldToEventLoop();
    if (signal?.aborted === true) throw new Stopped(b, batches);
    runBatch(prefix, x, b * batchSize, Math.min(batchSize, n - b * batchSize), use);
  }
};
