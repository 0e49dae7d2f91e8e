/**
 * Reading a tfjs-converter GraphModel as a list of layers: its computing nodes (every op but the
 * weight constants) in topological order, each with its output shape (found by running one
 * example), its weight count and the nodes it reads.
 *
 * tfjs-converter does not publish its graph: the executor's `graph` (`{ nodes, inputs, outputs,
 * weights }`, each node `{ name, op, inputs, attrParams }`) is read through a checked view, and a
 * model whose graph looks otherwise gets `NotSupported` rather than a guess.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import { either as E } from 'fp-ts';
import type { LayerInfo } from '../../../core/backbone';
import { isRecord } from '../../../core/boundary';
import { backendFailure, notSupported, type TransferError } from '../../../core/errors';

/** A node of the converter's graph, as far as transferkit reads it. */
export interface GraphNode {
  readonly name: string;
  readonly op: string;
  readonly inputs: ReadonlyArray<GraphNode>;
}

/** The converter's graph, as far as transferkit reads it. */
interface GraphView {
  readonly inputs: ReadonlyArray<GraphNode>;
  readonly outputs: ReadonlyArray<GraphNode>;
}

const isNode = (n: unknown): n is GraphNode => isRecord(n) && typeof n['name'] === 'string' && typeof n['op'] === 'string' && Array.isArray(n['inputs']);

/** The converter's graph of `model`, if it has the shape transferkit reads. */
const graphOf = (model: GraphModel): GraphView | undefined => {
  const executor = (model as unknown as { executor?: unknown }).executor;
  const graph = isRecord(executor) ? executor['graph'] : undefined;
  if (!isRecord(graph)) return undefined;
  const { inputs, outputs } = graph;
  return Array.isArray(inputs) && Array.isArray(outputs) && inputs.every(isNode) && outputs.every(isNode) ? { inputs, outputs } : undefined;
};

/** Ops whose node holds a value rather than computing one. */
const CONSTANT = new Set(['Const']);

/** Ops of control flow and other dynamic work: the graph then runs only with `executeAsync`, which no step can wait for. */
const DYNAMIC = new Set(['Enter', 'Exit', 'Merge', 'Switch', 'NextIteration', 'LoopCond', 'If', 'StatelessIf', 'While', 'StatelessWhile', 'NonMaxSuppressionV2', 'NonMaxSuppressionV3', 'NonMaxSuppressionV4', 'NonMaxSuppressionV5', 'Where', 'ListDiff']);

/** The nodes that compute the outputs (no constants), each after the nodes it reads. */
const topological = (outputs: ReadonlyArray<GraphNode>): GraphNode[] => {
  const order: GraphNode[] = [];
  const seen = new Set<GraphNode>();
  // Iterative post-order: a deep network would overflow a recursive walk's stack.
  const stack: Array<{ node: GraphNode; next: number }> = [];
  const push = (node: GraphNode): void => {
    if (seen.has(node) || CONSTANT.has(node.op)) return;
    seen.add(node);
    stack.push({ node, next: 0 });
  };
  outputs.forEach((o) => {
    push(o);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const input = top.node.inputs[top.next++];
      if (input !== undefined) push(input);
      else order.push(stack.pop()!.node);
    }
  });
  return order;
};

/** A GraphModel read as layers: the nodes in order and their infos (same index). */
export interface GraphLayers {
  readonly nodes: ReadonlyArray<GraphNode>;
  readonly layers: ReadonlyArray<LayerInfo>;
  /** The input node's name, shape (batch first, `null` for the batch) and dtype. */
  readonly input: { readonly name: string; readonly shape: ReadonlyArray<number | null>; readonly dtype: 'float32' | 'int32' };
}

const describeShape = (shape: ReadonlyArray<number | null>): string => `[${shape.map((d) => (d === null ? 'N' : String(d))).join(', ')}]`;

/**
 * Reads a GraphModel with one input and one output as layers. `exampleShape` fills in an input
 * whose height or width the graph leaves open. The shapes come from running one example of zeros
 * through every node; nothing of that run is kept.
 */
export const readGraph = (model: GraphModel, exampleShape: ReadonlyArray<number> | undefined): E.Either<TransferError, GraphLayers> => {
  const graph = graphOf(model);
  if (graph === undefined) return E.left(notSupported('model', 'a GraphModel of tfjs-converter 4.x (loaded with loadGraphModel)', 'a model whose graph transferkit cannot read'));
  if (graph.inputs.length !== 1 || graph.outputs.length !== 1) {
    const names = (ns: ReadonlyArray<GraphNode>): string => ns.map((n) => n.name).join(', ');
    return E.left(notSupported('model', 'a GraphModel with one input and one output', `${graph.inputs.length} inputs (${names(graph.inputs)}) and ${graph.outputs.length} outputs (${names(graph.outputs)})`));
  }
  const nodes = topological(graph.outputs);
  const dynamic = nodes.find((n) => DYNAMIC.has(n.op));
  if (dynamic !== undefined) return E.left(notSupported('model', 'a GraphModel without control flow or dynamic ops (one that runs with execute, not only executeAsync)', `the node '${dynamic.name}' (${dynamic.op})`));
  const info = model.inputs[0];
  const declared = (info?.shape ?? []).map((d) => (d === undefined || d < 0 ? null : d));
  const dtype = info?.dtype === 'int32' ? 'int32' : 'float32';
  if (info === undefined || declared.length < 2) return E.left(notSupported('model', 'a GraphModel whose input has a batch dimension and a known rank', `an input of shape ${describeShape(declared)}`));
  const open = declared.slice(1).some((d) => d === null);
  if (open && exampleShape === undefined) {
    return E.left(notSupported('model', `options.inputShape: the shape of one example (the graph's input ${describeShape(declared)} leaves some of it open)`, `an input of shape ${describeShape(declared)}`));
  }
  const example = exampleShape ?? (declared.slice(1) as number[]);
  if (example.length !== declared.length - 1 || example.some((d, i) => declared[i + 1] !== null && declared[i + 1] !== d)) {
    return E.left(notSupported('options.inputShape', `one example of the graph's input ${describeShape(declared)}`, describeShape(example)));
  }
  const index = new Map(nodes.map((n, i) => [n, i] as const));
  const computing = nodes.filter((n) => n.op !== 'Placeholder').map((n) => n.name);
  let shapes: ReadonlyArray<ReadonlyArray<number>>;
  try {
    shapes = tf.tidy(() => {
      const outs = model.execute(tf.zeros([1, ...example], dtype), computing);
      return (Array.isArray(outs) ? outs : [outs]).map((t) => t.shape);
    });
  } catch (thrown) {
    return E.left(backendFailure('running one example through the graph to read its shapes', thrown));
  }
  const shapeOf = new Map(computing.map((name, i) => [name, shapes[i]!] as const));
  const weights = model.weights;
  const layers = nodes.map((n, i): LayerInfo => {
    const shape = n.op === 'Placeholder' ? [1, ...example] : shapeOf.get(n.name)!;
    const params = n.inputs.filter((c) => CONSTANT.has(c.op)).reduce((sum, c) => sum + (weights[c.name] ?? []).reduce((s, t) => s + (t.dtype === 'float32' ? t.size : 0), 0), 0);
    return {
      name: n.name,
      index: i,
      kind: n.op,
      outputShape: [null, ...shape.slice(1)],
      params,
      trainable: false,
      inputs: n.inputs.map((c) => index.get(c)).filter((k): k is number => k !== undefined),
    };
  });
  return E.right({ nodes, layers, input: { name: graph.inputs[0]!.name, shape: [null, ...example], dtype } });
};
