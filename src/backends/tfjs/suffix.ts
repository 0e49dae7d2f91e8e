/**
 * Running a phase's trainable suffix: what `suffix.apply(xs)` does, layer by layer, with one change
 * that leaves every number as it was.
 *
 * tfjs-layers runs a convolution with no activation through tfjs-core's fused convolution, whose
 * gradient (a `customGrad`) computes the gradient of the input as well as the filter's, whether or
 * not anything needs it. The suffix's first convolutions read cached activations, which need no
 * gradient: for MobileNetV2's last block that input gradient is about 6 % of a step's
 * multiply-adds, and for a suffix that starts on a large feature map, more. Such a convolution
 * (no bias, no activation, channels last, no dilation) runs here as `tf.conv2d`: the same forward
 * kernel, and a gradient registered per input, which tfjs computes only for inputs on the way to
 * the trained variables — the filter's, by the same kernel with the same arguments. A test trains
 * with and without this and gets the same bits.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { pair } from './compile';
import type { Layer, SymbolicTensor } from './graph';

/** One layer call of the suffix, by tensor ids; `direct` when it runs as a plain `tf.conv2d`. */
interface Step {
  readonly layer: Layer;
  readonly inputs: ReadonlyArray<number>;
  readonly outputs: ReadonlyArray<number>;
  readonly direct?: { readonly strides: [number, number]; readonly pad: 'same' | 'valid' };
}

interface Program {
  readonly inputs: ReadonlyArray<number>;
  readonly output: number;
  readonly steps: ReadonlyArray<Step>;
}

/** Whether a layer is a convolution tfjs-layers would run fused with no bias and no activation. */
const plainConv = (layer: Layer): boolean => {
  if (layer.getClassName() !== 'Conv2D') return false;
  const c = layer.getConfig() as Record<string, unknown>;
  const dilation = c['dilationRate'];
  const undilated = dilation === undefined || dilation === 1 || (Array.isArray(dilation) && dilation.every((d) => d === 1));
  return c['useBias'] === false && c['activation'] === 'linear' && c['dataFormat'] === 'channelsLast' && undilated && (c['padding'] === 'same' || c['padding'] === 'valid');
};

/** The calls that compute the model's output from its inputs, in order (each tensor knows the call that made it). */
const compile = (model: tfl.LayersModel): Program => {
  const inputs = model.inputs.map((t) => t.id);
  const fed = new Set(inputs);
  const steps: Step[] = [];
  const seen = new Set<unknown>();
  const visit = (t: SymbolicTensor): void => {
    if (fed.has(t.id)) return;
    const layer = t.sourceLayer as Layer;
    const node = layer.inboundNodes[t.nodeIndex];
    if (node === undefined) throw new Error(`suffix: no call of layer ${layer.name} makes tensor ${t.name}`);
    if (seen.has(node)) return;
    seen.add(node);
    node.inputTensors.forEach(visit);
    const ins = node.inputTensors.map((i) => i.id);
    const step = { layer, inputs: ins, outputs: node.outputTensors.map((o) => o.id) };
    if (!plainConv(layer) || !ins.every((id) => fed.has(id))) steps.push(step);
    else {
      const c = layer.getConfig() as Record<string, unknown>;
      steps.push({ ...step, direct: { strides: pair(c['strides']), pad: c['padding'] as 'same' | 'valid' } });
    }
  };
  if (model.outputs.length !== 1) throw new Error('suffix: a trainable suffix has one output');
  visit(model.outputs[0]!);
  return { inputs, output: model.outputs[0]!.id, steps };
};

const programs = new WeakMap<tfl.LayersModel, Program>();
let direct = true;

/** Turns the direct convolutions off (or on again), so benches can measure what they save. */
export const useDirectConvs = (on: boolean): void => {
  direct = on;
};

/** A plain convolution layer's call: `tf.conv2d` on its kernel variable, with the arguments tfjs-layers gives the fused one. */
const conv = (step: Step, x: tf.Tensor): tf.Tensor => {
  const kernel = step.layer.weights.find((w) => w.originalName.endsWith('kernel'))!;
  return tf.conv2d(x as tf.Tensor4D, kernel.read() as tf.Tensor4D, step.direct!.strides, step.direct!.pad, 'NHWC', 1);
};

/** The suffix's output for `xs` (its inputs, in order), as `suffix.apply(xs, { training })` gives it. */
export const applySuffix = (suffix: tfl.LayersModel, xs: ReadonlyArray<tf.Tensor>, training: boolean): tf.Tensor => {
  let program = programs.get(suffix);
  if (program === undefined) {
    program = compile(suffix);
    programs.set(suffix, program);
  }
  const values = new Map<number, tf.Tensor>(program.inputs.map((id, k) => [id, xs[k]!]));
  for (const step of program.steps) {
    const args = step.inputs.map((id) => values.get(id)!);
    const produced = direct && step.direct !== undefined ? conv(step, args[0]!) : (step.layer.apply(args.length === 1 ? args[0]! : args, { training }) as tf.Tensor | tf.Tensor[]);
    const list = Array.isArray(produced) ? produced : [produced];
    step.outputs.forEach((id, k) => values.set(id, list[k]!));
  }
  return values.get(program.output)!;
};
