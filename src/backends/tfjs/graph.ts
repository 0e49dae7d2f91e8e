/**
 * Reading and re-wiring a tfjs-layers graph: layer info, the layers a tap depends on, the frozen /
 * trainable boundary of a phase, and replaying part of a graph from new inputs.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerInfo } from '../../core/backbone';
import type { TrainablePolicy } from '../../core/recipe';

export type Layer = tfl.layers.Layer;
export type SymbolicTensor = tfl.SymbolicTensor;

/** The layers feeding `layer` in its first call (the one that built the model). */
export const inboundLayers = (layer: Layer): ReadonlyArray<Layer> => layer.inboundNodes[0]?.inboundLayers ?? [];

/** The tensors `layer` was first called on, and the ones it produced. */
const firstNode = (layer: Layer): { inputs: ReadonlyArray<SymbolicTensor>; outputs: ReadonlyArray<SymbolicTensor> } => {
  const node = layer.inboundNodes[0];
  return { inputs: node?.inputTensors ?? [], outputs: node?.outputTensors ?? [] };
};

/** A layer's output shapes (one per output), batch dimension first; none for a layer called on several shapes, which has no single one. */
export const outputShapes = (layer: Layer): ReadonlyArray<ReadonlyArray<number | null>> => {
  try {
    const shape = layer.outputShape;
    return Array.isArray(shape[0]) ? (shape as Array<Array<number | null>>) : [shape as Array<number | null>];
  } catch {
    return [];
  }
};

/** The core's view of a model's layers, in the model's (topological) order. */
export const layerInfos = (model: tfl.LayersModel): ReadonlyArray<LayerInfo> => {
  const index = new Map(model.layers.map((l, i) => [l, i] as const));
  return model.layers.map((layer, i) => ({
    name: layer.name,
    index: i,
    kind: layer.getClassName(),
    outputShape: (Array.isArray(layer.outputShape[0]) ? layer.outputShape[0] : layer.outputShape) as ReadonlyArray<number | null>,
    params: layer.countParams(),
    trainable: layer.trainable,
    inputs: inboundLayers(layer)
      .map((l) => index.get(l))
      .filter((n): n is number => n !== undefined),
  }));
};

/** `target` and every layer it depends on, in the model's order. */
export const ancestors = (model: tfl.LayersModel, target: Layer): Layer[] => {
  const seen = new Set<Layer>();
  const stack = [target];
  while (stack.length > 0) {
    const layer = stack.pop()!;
    if (seen.has(layer)) continue;
    seen.add(layer);
    stack.push(...inboundLayers(layer));
  }
  return model.layers.filter((l) => seen.has(l));
};

/**
 * Applies a policy to the copied backbone: sets each layer's `trainable` flag and returns the
 * layers that train — the top ones among those with trainable weights.
 */
export const applyPolicy = (backbone: ReadonlyArray<Layer>, policy: TrainablePolicy): Set<Layer> => {
  for (const layer of backbone) layer.trainable = true;
  const weighted = backbone.filter((l) => l.trainableWeights.length > 0);
  const count =
    policy.kind === 'head-only'
      ? 0
      : policy.kind === 'all'
        ? weighted.length
        : policy.kind === 'top-layers'
          ? Math.min(policy.count, weighted.length)
          : Math.max(1, Math.round(policy.fraction * weighted.length));
  const trained = new Set(weighted.slice(weighted.length - count));
  for (const layer of backbone) layer.trainable = trained.has(layer);
  return trained;
};

/**
 * Splits a graph for a phase: `suffix` is every layer that trains or depends on one that does (it
 * must run each step); the rest is the frozen prefix, a fixed function. `crossing` are the prefix
 * outputs the suffix reads — what is worth caching.
 */
export const split = (
  graph: ReadonlyArray<Layer>,
  trained: ReadonlySet<Layer>,
  output: SymbolicTensor,
): { suffix: Layer[]; crossing: SymbolicTensor[] } => {
  const inSuffix = new Set<Layer>();
  for (const layer of graph) {
    if (trained.has(layer) || inboundLayers(layer).some((l) => inSuffix.has(l))) inSuffix.add(layer);
  }
  if (inSuffix.size === 0) return { suffix: [], crossing: [output] };
  const crossing = new Map<number, SymbolicTensor>();
  for (const layer of inSuffix) {
    for (const t of firstNode(layer).inputs) {
      if (!inSuffix.has(t.sourceLayer as Layer)) crossing.set(t.id, t);
    }
  }
  return { suffix: graph.filter((l) => inSuffix.has(l)), crossing: [...crossing.values()] };
};

/**
 * A new model that re-applies `layers` (in order) to fresh inputs standing for `crossing`, up to
 * `output`. The layers are shared, not copied: training the new model trains them.
 */
export const replay = (layers: ReadonlyArray<Layer>, crossing: ReadonlyArray<SymbolicTensor>, output: SymbolicTensor): tfl.LayersModel => {
  const mapped = new Map<number, SymbolicTensor>();
  const inputs = crossing.map((t) => {
    const fresh = tfl.input({ shape: t.shape.slice(1) as number[], dtype: t.dtype });
    mapped.set(t.id, fresh);
    return fresh;
  });
  for (const layer of layers) {
    const { inputs: before, outputs: after } = firstNode(layer);
    const args = before.map((t) => {
      const m = mapped.get(t.id);
      if (m === undefined) throw new Error(`replay: layer ${layer.name} reads a tensor outside the replayed part`);
      return m;
    });
    const produced = layer.apply(args.length === 1 ? args[0]! : args) as SymbolicTensor | SymbolicTensor[];
    const list = Array.isArray(produced) ? produced : [produced];
    after.forEach((t, k) => mapped.set(t.id, list[k]!));
  }
  const out = mapped.get(output.id);
  if (out === undefined) throw new Error('replay: the output is not produced by the replayed layers');
  return tfl.model({ inputs, outputs: out });
};

/**
 * Frees a layer's weights for good: a layer's reference count rises with every call that wires it
 * into a graph, so it is released once per call.
 */
export const release = (layer: Layer): void => {
  if (layer.getClassName() === 'InputLayer' || !layer.built) return;
  try {
    while (layer.dispose().refCountAfterDispose > 0) {
      /* keep releasing */
    }
  } catch {
    // Already released, or never wired into a graph: nothing is held.
  }
};
