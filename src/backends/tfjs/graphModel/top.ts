/**
 * The top feature node of a GraphModel: below its classifier, never a probability output. The
 * same rule as for a LayersModel, in the converter's ops: from the output, back past what only
 * reshapes or normalises to probabilities (Identity, Reshape, Squeeze, Softmax, Sigmoid), then past
 * the classifier (MatMul, a bias added to it, a 1×1 convolution on a 1×1 map); the node below is
 * the top. A graph that ends in features (a feature-vector model) has its output as the top.
 */
import { either as E } from 'fp-ts';
import type { LayerInfo } from '../../../core/backbone';
import { described, invalidArgument, type TransferError } from '../../../core/errors';
import type { GraphNode } from './nodes';

/** Ops that turn logits into a distribution. */
const PROBABILITY = new Set(['Softmax', 'Sigmoid', 'LogSoftmax']);
/** Ops that only pass values on, reshaped. */
const SHAPING = new Set(['Identity', 'Reshape', 'Squeeze', 'ExpandDims', 'StopGradient', 'Snapshot']);
/** Ops of a dense classifier. */
const MATMUL = new Set(['MatMul', '_FusedMatMul', 'BatchMatMul', 'BatchMatMulV2']);
/** Ops that add a classifier's bias (when one operand is a constant). */
const BIAS = new Set(['BiasAdd', 'Add', 'AddV2']);
const CONV = new Set(['Conv2D', '_FusedConv2D']);
/** Activations inside a classifier of several dense layers. */
const HIDDEN = new Set(['Relu', 'Relu6', 'Elu', 'Selu', 'LeakyRelu']);
/** Ops that make one vector per example of a feature map: where users look for the top. */
const POOLED = new Set(['Mean', 'AvgPool', 'MaxPool', 'Max', 'Squeeze', 'Reshape', 'ConcatV2']);

const computingInput = (node: GraphNode): GraphNode | undefined => node.inputs.find((n) => n.op !== 'Const');

/** Whether a node is part of a classifier: a matrix product, its bias, a 1×1 convolution on a 1×1 map. */
const classifies = (node: GraphNode, shape: ReadonlyArray<number | null>): boolean => {
  if (MATMUL.has(node.op)) return true;
  if (BIAS.has(node.op)) return node.inputs.some((n) => n.op === 'Const') && node.inputs.filter((n) => n.op !== 'Const').length === 1;
  return CONV.has(node.op) && shape.length === 4 && shape[1] === 1 && shape[2] === 1;
};

/**
 * The index of the top feature node among `layers` (the nodes' infos, same order), or an
 * `InvalidArgument` for `options.top` that lists candidates when the graph ends in probabilities
 * with no classifier transferkit can see below them.
 */
export const detectGraphTop = (nodes: ReadonlyArray<GraphNode>, layers: ReadonlyArray<LayerInfo>): E.Either<TransferError, number> => {
  const index = new Map(nodes.map((n, i) => [n, i] as const));
  const shapeOf = (n: GraphNode): ReadonlyArray<number | null> => layers[index.get(n)!]!.outputShape;
  let node: GraphNode | undefined = nodes[nodes.length - 1];
  let probabilities = false;
  while (node !== undefined && (SHAPING.has(node.op) || PROBABILITY.has(node.op))) {
    probabilities ||= PROBABILITY.has(node.op);
    node = computingInput(node);
  }
  // The final classifier: a matrix product (or 1×1 convolution) and its bias.
  let classifier = false;
  while (node !== undefined && classifies(node, shapeOf(node))) {
    classifier = true;
    node = computingInput(node);
  }
  // A classifier of several dense layers on pooled features (hidden activations between them) is
  // a head too: the pooled features below it are the top, as for a LayersModel. Without pooling
  // below, the top stays the layer under the final classifier.
  let deep = node;
  for (;;) {
    const below = deep === undefined ? undefined : computingInput(deep);
    if (!classifier || deep === undefined || below === undefined || !(HIDDEN.has(deep.op) || SHAPING.has(deep.op)) || !classifies(below, shapeOf(below))) break;
    deep = below;
    while (deep !== undefined && classifies(deep, shapeOf(deep))) deep = computingInput(deep);
  }
  if (deep !== undefined && deep !== node && POOLED.has(deep.op)) node = deep;
  const found = node === undefined ? undefined : index.get(node);
  const sure = found !== undefined && nodes[found]!.op !== 'Placeholder' && (classifier || !probabilities);
  if (sure) return E.right(found);
  const candidates = layers.filter((l) => POOLED.has(l.kind)).slice(-6).map((l) => `'${l.name}' (${l.kind}, ${l.outputShape.slice(1).join('×')})`);
  const why = found === undefined || nodes[found]!.op === 'Placeholder' ? 'a graph that is all classifier' : 'a graph ending in probabilities with no classifier transferkit recognises below them';
  const named = candidates.length > 0 ? `: e.g. ${candidates.join(', ')}` : ' (a node of backbone.layers)';
  return E.left(invalidArgument('options.top', `the top feature node, named${named}`, described(why)));
};
