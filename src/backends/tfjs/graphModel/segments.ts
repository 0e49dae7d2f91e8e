/**
 * A GraphModel's nodes up to a tap, made trainable: the graph's own ops, run by tfjs-converter's
 * executor on a private copy of the graph whose weight constants are replaced by variables. Each
 * op is a tfjs-core op with its gradient, so the runner's steps train the weights as they train a
 * LayersModel's; the source graph is never touched.
 *
 * The nodes are cut into segments where the graph narrows to a single tensor (every path from
 * the input to the tap crosses it: after a block of a residual network, say), and each segment is
 * one tfjs-layers layer holding the weights its ops read. A trainable policy then counts segments
 * as it counts a LayersModel's layers ("the top quarter", "everything"). A segment is fed its
 * input by name (`execute({ [node]: x }, output)`), which the converter's executor supports: it
 * runs only the ops between the two.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { loadGraphModelSync, type GraphModel } from '@tensorflow/tfjs-converter';
import { either as E } from 'fp-ts';
import type { LayerInfo } from '../../../core/backbone';
import { backendFailure, type TransferError } from '../../../core/errors';
import type { GraphLayers, GraphNode } from './nodes';

/**
 * Ops whose tfjs kernels have gradients, as tfjs-converter runs them. The fused ops count: while a
 * gradient is recorded, tfjs runs a fused convolution or product with a non-linear activation as
 * its parts (`shouldFuse` in tfjs-core), each with its gradient.
 */
export const TRAINABLE_OPS: ReadonlySet<string> = new Set([
  'Placeholder', 'Const', 'Identity', 'StopGradient', 'Snapshot',
  'Conv2D', '_FusedConv2D', 'DepthwiseConv2d', 'DepthwiseConv2dNative', 'FusedDepthwiseConv2dNative',
  'MatMul', '_FusedMatMul', 'BatchMatMul', 'BatchMatMulV2', 'BiasAdd',
  'Relu', 'Relu6', 'Elu', 'Selu', 'LeakyRelu', 'Prelu', 'Sigmoid', 'Tanh', 'Softplus', 'Softmax', 'LogSoftmax',
  'Add', 'AddV2', 'AddN', 'Sub', 'Mul', 'RealDiv', 'Div', 'Maximum', 'Minimum', 'Neg', 'Square', 'Sqrt', 'Rsqrt', 'Exp', 'Log',
  'Mean', 'Sum', 'Max', 'AvgPool', 'MaxPool', 'Pad', 'PadV2', 'MirrorPad',
  'Reshape', 'Squeeze', 'ExpandDims', 'ConcatV2', 'Concat', 'Transpose', 'Slice', 'StridedSlice', 'Pack', 'Unpack', 'Cast',
  'FusedBatchNorm', 'FusedBatchNormV2', 'FusedBatchNormV3', 'ClipByValue',
]);

/** Inputs of FusedBatchNorm that hold statistics: they never train (the graph's BatchNorm runs in inference mode). */
const STATISTICS = new Set([3, 4]);
const BATCH_NORMS = new Set(['FusedBatchNorm', 'FusedBatchNormV2', 'FusedBatchNormV3']);

/** The nodes `tap` depends on (itself included), in the graph's order. */
const ancestors = (graph: GraphLayers, tap: number): GraphNode[] => {
  const index = new Map(graph.nodes.map((n, i) => [n, i] as const));
  const keep = new Set<number>([tap]);
  for (let i = tap; i >= 0; i--) {
    if (!keep.has(i)) continue;
    for (const input of graph.nodes[i]!.inputs) {
      const at = index.get(input);
      if (at !== undefined) keep.add(at);
    }
  }
  // The input first (it reads nothing, so the order stays topological): segments start there.
  const kept = graph.nodes.filter((_, i) => keep.has(i));
  return [...kept.filter((n) => n.name === graph.input.name), ...kept.filter((n) => n.name !== graph.input.name)];
};

/**
 * The first node up to the tap that cannot train: one whose op has no gradient in tfjs, or that
 * reads such a node (a constant of an unusual kind, say); the node named is the one with that op.
 */
export const untrainableNode = (graph: GraphLayers, tap: number): GraphNode | undefined => {
  for (const node of ancestors(graph, tap)) {
    if (!TRAINABLE_OPS.has(node.op)) return node;
    const input = node.inputs.find((c) => !TRAINABLE_OPS.has(c.op));
    if (input !== undefined) return input;
  }
  return undefined;
};

/** One segment: fed at `from`, output at `to`, the computing nodes between, and the weight constants they read first. */
export interface SegmentSpec {
  readonly from: string;
  readonly to: string;
  readonly nodes: ReadonlyArray<GraphNode>;
  readonly weights: ReadonlyArray<{ readonly node: GraphNode; readonly trainable: boolean }>;
}

/** Float weight constants a node reads, each with whether it trains. */
type Weights = Readonly<Record<string, ReadonlyArray<tf.Tensor>>>;

const weightInputs = (node: GraphNode, weights: Weights): Array<{ node: GraphNode; trainable: boolean }> =>
  node.inputs.flatMap((c, i) => {
    const value = c.op === 'Const' ? weights[c.name]?.[0] : undefined;
    return value !== undefined && value.dtype === 'float32' && value.rank >= 1 ? [{ node: c, trainable: !(BATCH_NORMS.has(node.op) && STATISTICS.has(i)) }] : [];
  });

/**
 * The segments from the input to `tap`: cut after every node through which all paths pass, then
 * each segment without weights merged into the next (a policy counts layers with weights).
 */
export const segmentsTo = (graph: GraphLayers, tap: number, weights: Weights): SegmentSpec[] => {
  const order = ancestors(graph, tap);
  const position = new Map(order.map((n, i) => [n, i] as const));
  const lastUse = order.map((_, i) => i);
  order.forEach((n, i) => n.inputs.forEach((c) => {
    const p = position.get(c);
    if (p !== undefined) lastUse[p] = Math.max(lastUse[p]!, i);
  }));
  const cuts: number[] = [0];
  let reach = 0;
  for (let i = 1; i < order.length; i++) {
    if (reach <= i && i < order.length - 1) cuts.push(i);
    reach = Math.max(reach, lastUse[i]!);
  }
  cuts.push(order.length - 1);
  const owned = new Set<GraphNode>();
  const specs: SegmentSpec[] = [];
  for (let k = 1; k < cuts.length; k++) {
    const nodes = order.slice(cuts[k - 1]! + 1, cuts[k]! + 1);
    const own = nodes.flatMap((n) => weightInputs(n, weights)).filter((w) => !owned.has(w.node) && (owned.add(w.node), true));
    specs.push({ from: order[cuts[k - 1]!]!.name, to: order[cuts[k]!]!.name, nodes, weights: own });
  }
  // A bias joins the product it is added to (as a Keras layer holds both), a segment without
  // weights joins the next one, and the last, if it has none, the one before.
  const biased: SegmentSpec[] = [];
  for (const s of specs) {
    const last = biased[biased.length - 1];
    if (last !== undefined && s.nodes[0]!.op === 'BiasAdd' && last.weights.length > 0) biased[biased.length - 1] = { from: last.from, to: s.to, nodes: [...last.nodes, ...s.nodes], weights: [...last.weights, ...s.weights] };
    else biased.push(s);
  }
  const merged: SegmentSpec[] = [];
  let pending: SegmentSpec | undefined;
  for (const s of biased) {
    const joined: SegmentSpec = pending === undefined ? s : { from: pending.from, to: s.to, nodes: [...pending.nodes, ...s.nodes], weights: [...pending.weights, ...s.weights] };
    if (joined.weights.length === 0) pending = joined;
    else (merged.push(joined), (pending = undefined));
  }
  if (pending !== undefined) {
    const last = merged.pop();
    merged.push(last === undefined ? pending : { from: last.from, to: pending.to, nodes: [...last.nodes, ...pending.nodes], weights: last.weights });
  }
  return merged;
};

/** The private copy of a graph that segments run, and how many segments still use it. */
interface Twin {
  readonly model: GraphModel<tf.io.IOHandlerSync>;
  users: number;
}

/** A run of a graph's nodes as a layer: the weights its ops read, as variables. */
export class GraphSegment extends tfl.layers.Layer {
  static readonly className = 'TransferkitGraphSegment';
  readonly #twin: Twin;
  readonly #spec: SegmentSpec;
  readonly #shape: Array<number | null>;
  readonly #cast: 'float32' | 'int32' | undefined;
  /** Floats its ops output per example: what a training step holds for it (memory.ts). */
  readonly activationFloats: number;

  constructor(twin: Twin, spec: SegmentSpec, infos: ReadonlyMap<string, LayerInfo>, cast: 'float32' | 'int32' | undefined, name: string) {
    super({ name, trainable: true });
    this.#twin = twin;
    this.#spec = spec;
    this.#shape = [...infos.get(spec.to)!.outputShape];
    this.#cast = cast;
    this.activationFloats = spec.nodes.reduce((n, node) => n + infos.get(node.name)!.outputShape.slice(1).reduce<number>((a, d) => a * (d ?? 1), 1), 0);
    twin.users++;
  }

  override build(): void {
    const weights = this.#twin.model.weights;
    for (const { node, trainable } of this.#spec.weights) {
      // Named after its constant, with '.' for '/' (tfjs-layers reads the last '/' part as a weight's own name).
      this.addWeight(node.name.replace(/\//g, '.'), weights[node.name]![0]!.shape, 'float32', tfl.initializers.zeros(), undefined, trainable);
    }
    this.built = true;
  }

  override computeOutputShape(): Array<number | null> {
    return [...this.#shape];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    return tf.tidy(() => this.#twin.model.execute({ [this.#spec.from]: this.#cast === undefined || x.dtype === this.#cast ? x : tf.cast(x, this.#cast) }, this.#spec.to) as tf.Tensor);
  }

  /** Puts the graph's own values in this segment's weights, and its variables where the copy's executor reads them. */
  adoptWeights(): void {
    const executor = (this.#twin.model as unknown as { executor: { weightMap: Record<string, tf.Tensor[]> } }).executor;
    const map = { ...executor.weightMap } as Record<string, tf.Tensor[]>;
    const variables = this.weights;
    this.setWeights(this.#spec.weights.map(({ node }) => map[node.name]![0]!));
    this.#spec.weights.forEach(({ node }, i) => {
      map[node.name]!.forEach((t) => t.dispose());
      map[node.name] = [variables[i]!.read()];
    });
    // The setter, not a write into the map: the executor keeps the ids of its weights, and frees
    // any other tensor a run leaves behind.
    executor.weightMap = map;
  }

  override dispose(): ReturnType<tfl.layers.Layer['dispose']> {
    const result = super.dispose();
    if (result.refCountAfterDispose === 0) this.#leave();
    return result;
  }

  /** For a segment never built (a build that failed before it): lets go of the graph's copy, which holds all there is. */
  abandon(): void {
    if (!this.built) this.#leave();
  }

  #leave(): void {
    if (--this.#twin.users === 0) this.#twin.model.dispose();
  }
}

/**
 * The segments from `input` (the graph's input node) to `tap`, on a private copy of `model`
 * (loaded again from `artifacts`, which the converter kept), each holding the weights its ops read
 * once it is applied and has adopted them (`adoptWeights`). The caller has checked that every op
 * up to the tap can train (`untrainableNode`); the copy is freed on any error.
 */
export const trainableSegments = (artifacts: tf.io.ModelArtifacts, graph: GraphLayers, tap: number, taken: (base: string) => string): E.Either<TransferError, GraphSegment[]> => {
  let twin: Twin | undefined;
  const made: GraphSegment[] = [];
  try {
    const copy: Twin = { model: loadGraphModelSync(tf.io.fromMemorySync(artifacts)), users: 0 };
    twin = copy;
    const infos = new Map(graph.layers.map((l) => [l.name, l] as const));
    const specs = segmentsTo(graph, tap, copy.model.weights);
    for (const [k, spec] of specs.entries()) {
      made.push(new GraphSegment(copy, spec, infos, k === 0 ? graph.input.dtype : undefined, taken(`transferkit_graph_${k + 1}`)));
    }
    return E.right(made);
  } catch (thrown) {
    made.forEach((s) => s.abandon());
    if (twin !== undefined && twin.users === 0) twin.model.dispose();
    return E.left(backendFailure('making a trainable copy of the graph', thrown));
  }
};
