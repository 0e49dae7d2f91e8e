/**
 * Running a phase's trainable suffix: what `suffix.apply(xs)` does, layer by layer, with two
 * changes.
 *
 * 1. No unused input gradient (the same bits). tfjs-layers runs a convolution with no activation
 *    through tfjs-core's fused convolution, whose gradient (a `customGrad`) computes the gradient of
 *    the input as well as the filter's (and the bias's), whether or not anything needs it. The
 *    suffix's first convolutions read cached activations (or the model's input), which need no
 *    gradient: for MobileNetV2's last block that input gradient is about 6 % of a step's
 *    multiply-adds. Such a convolution runs here through a custom gradient of its own: the same
 *    fused call forward, and the filter's and bias's gradients by the same kernels with the same
 *    arguments as tfjs's; the input's is left out (zeros: nothing reads it). A test compares
 *    outputs and gradients with and without this and gets the same bits. (A convolution with an
 *    activation is not affected: while gradients are recorded, tfjs runs it unfused, with a
 *    gradient per input.)
 * 2. BatchNorm folded into the convolution before it, in inference mode (which is how a
 *    pretrained model's BatchNorm trains here: on its moving statistics; session/phase.ts). The folded
 *    filter and bias are computed from the layers' weights with tfjs ops on every call, under the
 *    gradient tape, so the convolution's kernel and bias and the BatchNorm's γ and β get their
 *    gradients through the fold; the moving statistics are only read. The same algebra as the
 *    compiled prefix (compile.ts), so outputs and gradients differ from the layers' only by float32
 *    rounding (a test bounds it). It saves BatchNorm's passes over the activations, forward and
 *    backward. The activation after it stays its own layer: its gradient at exactly 0 and 6 is
 *    tfjs's. In training mode (BatchNorm on batch statistics) nothing is folded.
 * 3. ReLU with a maximum (Keras's `ReLU(6.)`, MobileNetV2's activation) in one pass each way.
 *    tfjs-layers computes it as `clipByValue(relu(x), 0, max)`: two passes forward, each of which
 *    the gradient tape keeps a copy of, and a backward pass of the clip's gradient plus the ReLU's
 *    (Step, Cast, Multiply). Here it is `relu6(x)` (or `clipByValue(x, 0, max)` for another
 *    maximum, where only the sign of a zero can differ) forward, the same values, and its
 *    gradient dy · [0 < x ≤ max] — the product of the two gradients (ReLU's passes dy where
 *    x > 0, the clip's where relu(x) ≤ max) — in one kernel where the pack's clip gradient is
 *    registered (the bound 0 < x is its x ≥ the smallest float32 above zero), else in tfjs ops.
 *    A test compares values and gradients with tfjs-layers', at 0 and at the maximum too.
 * 4. 1×1 convolutions as products of rows. A 1×1 convolution with stride 1 that runs here (folded
 *    with its BatchNorm, or reading an input) is Y = X·W + b over its pixels; where it has a
 *    multiple of 8 filters and the backend has the pack's `ROWS_TIMES`, that product and the
 *    input gradient dY·Wᵀ run as heap.wat's rowsTimes, which packs neither operand, instead of
 *    XNNPACK's, which packs the filter — fresh at every step — first (`rowsConv`).
 * 5. A BatchNorm without γ or β (Keras's `scale=False`), where it runs as itself, runs as its
 *    formula in plain ops (normalization.ts): tfjs cannot train such a layer, which broke a
 *    partial fine-tune of Keras's InceptionV3 and training it from scratch.
 * 6. Seeded noise in training mode. tfjs-layers' Dropout, SpatialDropout1D, GaussianNoise,
 *    GaussianDropout and AlphaDropout draw their noise unseeded (Math.random), so a model trained
 *    from scratch would differ from run to run for one seed. In training mode each runs here as the
 *    same formula with noise drawn from a seed derived from the step's seed and the layer's place.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { deriveSeed } from '../../core/random';
import { foldable, foldedWeights, pair } from './compile';
import { normalizeInference, normalizeTraining, partialBatchNorm } from './normalization';
import { CLIP_GRADIENT } from './kernels/clipGradient';
import { ROWS_TIMES } from './kernels/register';
import type { Layer, SymbolicTensor } from './graph';

/** A convolution's geometry, as tfjs-layers passes it to the fused op. */
interface Geometry {
  readonly strides: [number, number];
  readonly pad: 'same' | 'valid';
  readonly dilations: [number, number];
}

/**
 * One layer call of the suffix, by tensor ids. `bn`: a BatchNormalization folded into this
 * convolution (the step's outputs are then the BatchNorm's). `direct`: the convolution reads an
 * input of the suffix, so its input gradient is left out.
 */
interface Step {
  readonly layer: Layer;
  readonly inputs: ReadonlyArray<number>;
  readonly outputs: ReadonlyArray<number>;
  readonly bn?: Layer;
  readonly geometry?: Geometry;
  readonly direct?: boolean;
  /** A ReLU layer with this maximum, run in one pass each way (point 3 of the module comment). */
  readonly clip?: number;
}

interface Program {
  readonly inputs: ReadonlyArray<number>;
  readonly output: number;
  readonly steps: ReadonlyArray<Step>;
}

const config = (layer: Layer): Record<string, unknown> => layer.getConfig() as Record<string, unknown>;

const undilated = (c: Record<string, unknown>): boolean => {
  const dilation = c['dilationRate'];
  return dilation === undefined || dilation === 1 || (Array.isArray(dilation) && dilation.every((d) => d === 1));
};

/** Whether a layer is a convolution tfjs-layers runs through the fused op's custom gradient: no activation. */
const linearConv = (layer: Layer): boolean => {
  if (layer.getClassName() !== 'Conv2D') return false;
  const c = config(layer);
  return c['activation'] === 'linear' && c['dataFormat'] === 'channelsLast' && undilated(c) && (c['padding'] === 'same' || c['padding'] === 'valid');
};

const geometryOf = (layer: Layer): Geometry => {
  const c = config(layer);
  return { strides: pair(c['strides']), pad: c['padding'] as 'same' | 'valid', dilations: pair(c['dilationRate'] ?? 1) };
};

/** One call of a layer in the model's graph. */
interface Call {
  readonly layer: Layer;
  readonly inputs: ReadonlyArray<SymbolicTensor>;
  readonly outputs: ReadonlyArray<SymbolicTensor>;
}

/** The layer calls that compute the model's output from its inputs, in order (each tensor knows the call that made it). */
const calls = (model: tfl.LayersModel): Call[] => {
  const fed = new Set(model.inputs.map((t) => t.id));
  const found: Call[] = [];
  const seen = new Set<unknown>();
  const visit = (t: SymbolicTensor): void => {
    if (fed.has(t.id)) return;
    const layer = t.sourceLayer as Layer;
    const node = layer.inboundNodes[t.nodeIndex];
    if (node === undefined) throw new Error(`suffix: no call of layer ${layer.name} makes tensor ${t.name}`);
    if (seen.has(node)) return;
    seen.add(node);
    node.inputTensors.forEach(visit);
    found.push({ layer, inputs: [...node.inputTensors], outputs: [...node.outputTensors] });
  };
  if (model.outputs.length !== 1) throw new Error('suffix: a trainable suffix has one output');
  visit(model.outputs[0]!);
  return found;
};

/**
 * The program for the model: with `fold`, each convolution whose output only an inference-mode
 * BatchNormalization reads becomes one convolution with the normalisation folded in.
 */
const compile = (model: tfl.LayersModel, fold: boolean): Program => {
  const inputs = model.inputs.map((t) => t.id);
  const fed = new Set(inputs);
  const found = calls(model);
  const output = model.outputs[0]!.id;
  // The calls that read each tensor.
  const readers = new Map<number, Call[]>();
  for (const call of found) for (const t of call.inputs) readers.set(t.id, [...(readers.get(t.id) ?? []), call]);
  const absorbed = new Set<Call>();
  const steps: Step[] = [];
  for (const call of found) {
    if (absorbed.has(call)) continue;
    const ins = call.inputs.map((t) => t.id);
    const outs = call.outputs.map((t) => t.id);
    // A BatchNorm call that is the only reader of this call's one output (not the model's output).
    const only = outs.length === 1 && outs[0] !== output ? readers.get(outs[0]!) : undefined;
    const bn = fold && only?.length === 1 && only[0]!.inputs.length === 1 && foldable(call.layer, only[0]!.layer) ? only[0]! : undefined;
    if (bn !== undefined) {
      absorbed.add(bn);
      const direct = call.layer.getClassName() === 'Conv2D' && undilated(config(call.layer)) && fed.has(ins[0]!);
      steps.push({ layer: call.layer, inputs: ins, outputs: bn.outputs.map((t) => t.id), bn: bn.layer, geometry: geometryOf(call.layer), direct });
    } else if (linearConv(call.layer) && ins.every((id) => fed.has(id))) {
      steps.push({ layer: call.layer, inputs: ins, outputs: outs, geometry: geometryOf(call.layer), direct: true });
    } else {
      const max = call.layer.getClassName() === 'ReLU' ? config(call.layer)['maxValue'] : undefined;
      const clip = typeof max === 'number' && Number.isFinite(max) && max > 0 && ins.length === 1 ? max : undefined;
      steps.push({ layer: call.layer, inputs: ins, outputs: outs, ...(clip === undefined || !clipping ? {} : { clip }) });
    }
  }
  return { inputs, output, steps };
};

const programs = new WeakMap<tfl.LayersModel, Map<string, Program>>();
let direct = true;
let folding = true;
let clipping = true;
let rowsProducts = true;

/** Turns the 1×1 convolutions as products of rows off (or on again), so benches can measure what they save. */
export const useRowsProducts = (on: boolean): void => {
  rowsProducts = on;
};

/** Turns the one-pass clipped ReLU off (or on again), so benches can measure what it saves. */
export const useOnePassClip = (on: boolean): void => {
  clipping = on;
};

/** Turns the direct convolutions off (or on again), so benches can measure what they save. */
export const useDirectConvs = (on: boolean): void => {
  direct = on;
};

/**
 * Turns BatchNorm folding in inference mode off (or on again): for benches, and for tests that
 * compare the rest with `suffix.apply` bit for bit.
 */
export const useFolding = (on: boolean): void => {
  folding = on;
};

const weight = (layer: Layer, suffix: string): tf.Tensor | undefined => layer.weights.find((w) => w.originalName.endsWith(suffix))?.read();

/** A convolution's filter gradient by the `Conv2DBackpropFilter` kernel, with the fused op's arguments. */
const filterGradient = ({ strides, pad }: Geometry, input: tf.Tensor, dy: tf.Tensor, filter: tf.Tensor): tf.Tensor =>
  tf.engine().runKernel('Conv2DBackpropFilter', { x: input, dy }, { strides, pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: filter.shape } as unknown as tf.NamedAttrMap) as tf.Tensor;

/** A bias's gradient: the output gradient summed over every axis but the channels (tfjs-core's `getFusedBiasGradient`). */
const biasGradient = (dy: tf.Tensor, bias: tf.Tensor): tf.Tensor => tf.reshape(tf.sum(dy, [0, 1, 2]), bias.shape);

/**
 * A convolution of an input that needs no gradient: tfjs's fused call forward; backward, the
 * filter's gradient by the `Conv2DBackpropFilter` kernel with the fused gradient's arguments, and
 * the bias's as its sum over every axis but the channels (tfjs-core's `getFusedBiasGradient`),
 * leaving out the input's.
 */
const directConv = (g: Geometry, x: tf.Tensor, filter: tf.Tensor4D, bias: tf.Tensor | undefined): tf.Tensor => {
  const { strides, pad, dilations } = g;
  const forward = (input: tf.Tensor, f: tf.Tensor, b: tf.Tensor | undefined): tf.Tensor =>
    tf.fused.conv2d({ x: input as tf.Tensor4D, filter: f as tf.Tensor4D, strides, pad, dilations, dataFormat: 'NHWC', ...(b === undefined ? {} : { bias: b }), activation: 'linear' });
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args.pop() as tf.GradSaveFunc;
    const [input, f, b] = args as tf.Tensor[];
    save([input!, f!]);
    return {
      value: forward(input!, f!, b),
      gradFunc: (dy: tf.Tensor, [i, w]: tf.Tensor[]) => {
        // The input's gradient is zeros: it is an input of the suffix, so nothing reads it.
        const grads = [tf.zerosLike(i!), filterGradient(g, i!, dy, w!)];
        return b === undefined ? grads : [...grads, biasGradient(dy, b)];
      },
    };
  });
  return bias === undefined ? op(x, filter) : op(x, filter, bias);
};

/** Whether a convolution is 1×1 with stride 1 (no padding then, 'same' or 'valid'). */
const isPointwise = (g: Geometry, filter: tf.Tensor4D): boolean =>
  filter.shape[0] === 1 && filter.shape[1] === 1 && g.strides.every((v) => v === 1) && g.dilations.every((v) => v === 1);

/**
 * A 1×1 convolution as products of rows with the pack's `ROWS_TIMES`, which packs neither operand
 * (heap.wat's rowsTimes), where it can: its output and, when needed, its input gradient (dY · Wᵀ)
 * have a multiple of 8 channels and the backend has the kernel. XNNPACK's product, under
 * tf.fused.conv2d, packs the filter — fresh at every training step — before it multiplies. The
 * filter's gradient is the `Conv2DBackpropFilter` kernel (the pack's outerSum on wasm) and the
 * bias's the sum over every axis but the channels, with tf.fused.conv2d's arguments; the input's
 * is left out (zeros) for an input of the suffix, as in `directConv`. Undefined where it cannot.
 */
const rowsConv = (g: Geometry, x: tf.Tensor, filter: tf.Tensor4D, bias: tf.Tensor | undefined, inputGradient: boolean): tf.Tensor | undefined => {
  const [, , cin, cout] = filter.shape;
  if (!rowsProducts || tf.getKernel(ROWS_TIMES, tf.getBackend()) === undefined || x.dtype !== 'float32' || cout % 8 !== 0) return undefined;
  const times = (a: tf.Tensor, b: tf.Tensor, c?: tf.Tensor): tf.Tensor => tf.engine().runKernel(ROWS_TIMES, c === undefined ? { a, b } : { a, b, bias: c }) as tf.Tensor;
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args.pop() as tf.GradSaveFunc;
    const [input, f, b] = args as tf.Tensor[];
    const [n, h, w] = input!.shape as [number, number, number, number];
    save([input!, f!]);
    return {
      value: tf.reshape(times(tf.reshape(input!, [n * h * w, cin]), tf.reshape(f!, [cin, cout]), b), [n, h, w, cout]),
      gradFunc: (dy: tf.Tensor, [i, k]: tf.Tensor[]) => {
        const dx = !inputGradient
          ? tf.zerosLike(i!)
          : cin % 8 === 0
            ? tf.reshape(times(tf.reshape(dy, [n * h * w, cout]), tf.transpose(tf.reshape(k!, [cin, cout]))), i!.shape)
            : (tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: k! }, { strides: g.strides, pad: g.pad, dataFormat: 'NHWC', dimRoundingMode: undefined, inputShape: i!.shape } as unknown as tf.NamedAttrMap) as tf.Tensor);
        const dw = filterGradient(g, i!, dy, k!);
        return b === undefined ? [dx, dw] : [dx, dw, biasGradient(dy, b)];
      },
    };
  });
  return bias === undefined ? op(x, filter) : op(x, filter, bias);
};

/** A convolution step: folded with its BatchNorm, or a linear one reading an input; direct where it can be. */
const convolve = (step: Step, x: tf.Tensor): tf.Tensor => {
  const g = step.geometry!;
  const { filter, bias } = step.bn === undefined ? { filter: weight(step.layer, 'kernel') as tf.Tensor4D, bias: weight(step.layer, 'bias') } : foldedWeights(step.layer, step.bn);
  if (step.layer.getClassName() === 'Conv2D' && isPointwise(g, filter)) {
    const rows = rowsConv(g, x, filter, bias, !(direct && step.direct === true));
    if (rows !== undefined) return rows;
  }
  if (direct && step.direct === true) return directConv(g, x, filter, bias);
  const args = { x: x as tf.Tensor4D, filter, strides: g.strides, pad: g.pad, dilations: g.dilations, ...(bias === undefined ? {} : { bias }), activation: 'linear' as const };
  return step.layer.getClassName() === 'DepthwiseConv2D' ? tf.fused.depthwiseConv2d(args) : tf.fused.conv2d(args);
};

/** The smallest float32 above zero (2⁻¹⁴⁹): for a float32 x, x ≥ it exactly when x > 0. */
const ABOVE_ZERO = 2 ** -149;

/**
 * `clipByValue(relu(x), 0, max)`, as tfjs-layers' ReLU layer computes it, in one pass each way:
 * forward one kernel (the same values), backward dy · [0 < x ≤ max].
 */
const clippedRelu = (x: tf.Tensor, max: number): tf.Tensor =>
  tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args.pop() as tf.GradSaveFunc;
    const input = args[0] as tf.Tensor;
    save([input]);
    return {
      // relu6 for the usual maximum: like tfjs-layers' relu it turns −0 into +0, which a clip keeps.
      value: max === 6 ? tf.relu6(input) : tf.clipByValue(input, 0, max),
      gradFunc: (dy: tf.Tensor, [saved]: tf.Tensor[]) =>
        tf.getKernel(CLIP_GRADIENT, tf.getBackend()) !== undefined && dy.dtype === 'float32' && saved!.dtype === 'float32'
          ? (tf.engine().runKernel(CLIP_GRADIENT, { dy, x: saved! }, { clipValueMin: ABOVE_ZERO, clipValueMax: max }) as tf.Tensor)
          : tf.mul(dy, tf.cast(tf.logicalAnd(tf.greater(saved!, 0), tf.lessEqual(saved!, max)), 'float32')),
    };
  })(x);

/** The noise layers whose training-mode noise is drawn here, seeded (point 6 of the module comment). */
const NOISE = new Set(['Dropout', 'SpatialDropout1D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout']);

/** The fields of a noise layer read here (tfjs-layers keeps them as instance fields). */
interface NoiseFields {
  readonly rate?: number;
  readonly stddev?: number;
  readonly noiseShape?: ReadonlyArray<number | null>;
}

/**
 * A noise layer's training-mode output, as tfjs-layers computes it, with its noise drawn from
 * `seed`. AlphaDropout follows Klambauer et al., "Self-Normalizing Neural Networks", NeurIPS 2017
 * (§ "New dropout technique"): a dropped unit is set to α' = −λα, and the result is scaled by
 * a = ((1 − q)(1 + q α'²))^(−1/2) and shifted by b = −a α' q, for the drop rate q.
 */
const seededNoise = (layer: Layer, x: tf.Tensor, seed: number): tf.Tensor => {
  const { rate = 0, stddev = 0, noiseShape } = layer as unknown as NoiseFields;
  const shapeOf = (): number[] => (noiseShape == null ? x.shape : noiseShape.map((d, i) => d ?? x.shape[i]!));
  switch (layer.getClassName()) {
    case 'Dropout':
      return rate > 0 && rate < 1 ? tf.dropout(x, rate, shapeOf(), seed) : x;
    case 'SpatialDropout1D':
      return rate > 0 && rate < 1 ? tf.dropout(x, rate, [x.shape[0]!, 1, x.shape[2]!], seed) : x;
    case 'GaussianNoise':
      return tf.add(x, tf.randomNormal(x.shape, 0, stddev, 'float32', seed));
    case 'GaussianDropout':
      return rate > 0 && rate < 1 ? tf.mul(x, tf.randomNormal(x.shape, 1, Math.sqrt(rate / (1 - rate)), 'float32', seed)) : x;
    default: {
      if (!(rate > 0 && rate < 1)) return x;
      const dropped = -1.0507009873554805 * 1.6732632423543772; // α' = −λα of SELU
      const kept = tf.cast(tf.greaterEqual(tf.randomUniform(shapeOf(), 0, 1, 'float32', seed), rate), 'float32');
      const a = ((1 - rate) * (1 + rate * dropped ** 2)) ** -0.5;
      const b = -a * dropped * rate;
      return tf.add(tf.mul(tf.add(tf.mul(x, kept), tf.mul(tf.sub(kept, 1), dropped)), a), b);
    }
  }
};

/**
 * The suffix's output for `xs` (its inputs, in order), as `suffix.apply(xs, { training })` gives
 * it; in inference mode with each BatchNorm that follows a convolution folded into it, which
 * changes only float32 rounding; in training mode with noise layers seeded by `seed`.
 */
export const applySuffix = (
  suffix: tfl.LayersModel,
  xs: ReadonlyArray<tf.Tensor>,
  training: boolean,
  seed = 0,
  /** Called with each layer that runs as itself, and its inputs, before it runs. */
  observe?: (layer: tfl.layers.Layer, inputs: ReadonlyArray<tf.Tensor>) => void,
  /**
   * Runs each BatchNormalization in its place when it answers a tensor (AdaBN's normalisation by
   * the batch's statistics, session/batchNorm.ts); nothing is then folded.
   */
  normalize?: (layer: tfl.layers.Layer, x: tf.Tensor) => tf.Tensor | undefined,
): tf.Tensor => {
  const fold = folding && !training && normalize === undefined;
  let byMode = programs.get(suffix);
  if (byMode === undefined) {
    byMode = new Map();
    programs.set(suffix, byMode);
  }
  const key = `${fold} ${clipping}`;
  let program = byMode.get(key);
  if (program === undefined) {
    program = compile(suffix, fold);
    byMode.set(key, program);
  }
  const values = new Map<number, tf.Tensor>(program.inputs.map((id, k) => [id, xs[k]!]));
  for (const [k, step] of program.steps.entries()) {
    const args = step.inputs.map((id) => values.get(id)!);
    const unfused = step.bn === undefined && !(direct && step.direct === true);
    if (unfused) observe?.(step.layer, args);
    const own = unfused && normalize !== undefined && step.layer.getClassName() === 'BatchNormalization' ? normalize(step.layer, args[0]!) : undefined;
    const produced = own !== undefined
      ? own
      : !unfused
      ? convolve(step, args[0]!)
      : step.clip !== undefined
        ? clippedRelu(args[0]!, step.clip)
        : training && NOISE.has(step.layer.getClassName())
        ? seededNoise(step.layer, args[0]!, deriveSeed(seed, 500 + k))
        : partialBatchNorm(step.layer, args[0]!.rank)
        ? (training ? normalizeTraining : normalizeInference)(step.layer, args[0]!)
        : (step.layer.apply(args.length === 1 ? args[0]! : args, { training }) as tf.Tensor | tf.Tensor[]);
    const list = Array.isArray(produced) ? produced : [produced];
    step.outputs.forEach((id, k) => values.set(id, list[k]!));
  }
  return values.get(program.output)!;
};
