/**
 * Running a phase's trainable suffix: what `suffix.apply(xs)` does, layer by layer, with one change
 * that leaves every number as it was.
 *
 * tfjs-layers runs a convolution with no activation through tfjs-core's fused convolution, whose
 * gradient (a `customGrad`) computes the gradient of the input as well as the filter's (and the
 * bias's), whether or not anything needs it. The suffix's first convolutions read cached
 * activations (or the model's input), which need no gradient: for MobileNetV2's last block that
 * input gradient is about 6 % of a step's multiply-adds. Such a convolution runs here through a
 * custom gradient of its own: the same fused call forward, and the filter's and bias's gradients
 * by the same kernels with the same arguments as tfjs's; the input's is left out (zeros: nothing
 * reads it). A test compares outputs and gradients with and without this and gets the same bits.
 * (A convolution with an activation is not affected: while gradients are recorded, tfjs runs it
 * unfused, with a gradient per input.)
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
  readonly direct?: { readonly strides: number[]; readonly pad: 'same' | 'valid'; readonly dilations: number[] };
}

interface Program {
  readonly inputs: ReadonlyArray<number>;
  readonly output: number;
  readonly steps: ReadonlyArray<Step>;
}

/** Whether a layer is a convolution tfjs-layers runs through the fused op's custom gradient: no activation. */
const linearConv = (layer: Layer): boolean => {
  if (layer.getClassName() !== 'Conv2D') return false;
  const c = layer.getConfig() as Record<string, unknown>;
  const dilation = c['dilationRate'];
  const undilated = dilation === undefined || dilation === 1 || (Array.isArray(dilation) && dilation.every((d) => d === 1));
  return c['activation'] === 'linear' && c['dataFormat'] === 'channelsLast' && undilated && (c['padding'] === 'same' || c['padding'] === 'valid');
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
    if (!linearConv(layer) || !ins.every((id) => fed.has(id))) steps.push(step);
    else {
      // The values tfjs-layers passes the fused op (conv2dWithBiasActivation).
      const c = layer.getConfig() as Record<string, unknown>;
      steps.push({ ...step, direct: { strides: pair(c['strides']), pad: c['padding'] as 'same' | 'valid', dilations: pair(c['dilationRate'] ?? 1) } });
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

/**
 * A linear convolution layer's call on an input that needs no gradient: tfjs's fused call forward;
 * backward, the filter's gradient by the `Conv2DBackpropFilter` kernel with the fused gradient's
 * arguments, and the bias's as its sum over every axis but the channels (tfjs-core's
 * `getFusedBiasGradient`), leaving out the input's.
 */
const conv = (step: Step, x: tf.Tensor): tf.Tensor => {
  const { strides, pad, dilations } = step.direct!;
  const weight = (suffix: string) => step.layer.weights.find((w) => w.originalName.endsWith(suffix))?.read();
  const filter = weight('kernel')! as tf.Tensor4D;
  const bias = weight('bias');
  const forward = (input: tf.Tensor, f: tf.Tensor, b: tf.Tensor | undefined): tf.Tensor =>
    tf.fused.conv2d({
      x: input as tf.Tensor4D,
      filter: f as tf.Tensor4D,
      strides: strides as [number, number],
      pad,
      dilations: dilations as [number, number],
      dataFormat: 'NHWC',
      ...(b === undefined ? {} : { bias: b }),
      activation: 'linear',
    });
  const filterGradient = (input: tf.Tensor, dy: tf.Tensor, f: tf.Tensor): tf.Tensor =>
    tf.engine().runKernel('Conv2DBackpropFilter', { x: input, dy }, { strides, pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: f.shape } as unknown as tf.NamedAttrMap) as tf.Tensor;
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args.pop() as tf.GradSaveFunc;
    const [input, f, b] = args as tf.Tensor[];
    save([input!, f!]);
    return {
      value: forward(input!, f!, b),
      gradFunc: (dy: tf.Tensor, [i, w]: tf.Tensor[]) => {
        // The input's gradient is zeros: it is an input of the suffix, so nothing reads it.
        const grads = [tf.zerosLike(i!), filterGradient(i!, dy, w!)];
        return b === undefined ? grads : [...grads, tf.reshape(tf.sum(dy, [0, 1, 2]), b.shape)];
      },
    };
  });
  return bias === undefined ? op(x, filter) : op(x, filter, bias);
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
