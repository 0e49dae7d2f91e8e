/**
 * Building a transfer model from a source LayersModel: a deep copy (of its weights, or of its
 * architecture with fresh seeded weights), cut at the tap, with pooling and a new head. The source
 * is read, never changed.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { either as E, type taskEither as TE } from 'fp-ts';
import type { BuildSpec } from '../../../core/backbone';
import { backendFailure, notSupported, type TransferError } from '../../../core/errors';
import { deriveSeed } from '../../../core/random';
import { ancestors, release, type Layer, type SymbolicTensor } from '../graph';
import { nonFiniteWeight } from '../inputs';
import { TfjsTransferModel } from '../transferModel';
import { withHead, type Assembled } from '../withHead';

/**
 * Gives every seedable initialiser in a serialised topology its own seed derived from `seed`, in the
 * order they appear (`VarianceScaling`, `RandomNormal`, ... carry a `seed` field; `Zeros`, `Ones`
 * do not), so a model built from it starts from the same random weights every time.
 */
const seedInitializers = (node: unknown, seed: number, counter = { next: 0 }): unknown => {
  if (Array.isArray(node)) return node.map((item) => seedInitializers(item, seed, counter));
  if (node === null || typeof node !== 'object') return node;
  const entries = Object.entries(node as Record<string, unknown>).map(([key, value]): [string, unknown] => {
    const init = value as { class_name?: unknown; config?: Record<string, unknown> } | null;
    if (key.endsWith('_initializer') && init !== null && typeof init === 'object' && init.config !== undefined && 'seed' in init.config) {
      return [key, { ...init, config: { ...init.config, seed: deriveSeed(seed, 1000 + counter.next++) } }];
    }
    return [key, seedInitializers(value, seed, counter)];
  });
  return Object.fromEntries(entries);
};

/** Every initialiser in a serialised topology replaced by zeros. */
const zeroInitializers = (node: unknown): unknown => {
  if (Array.isArray(node)) return node.map(zeroInitializers);
  if (node === null || typeof node !== 'object') return node;
  const entries = Object.entries(node as Record<string, unknown>).map(([key, value]): [string, unknown] =>
    key.endsWith('_initializer') && value !== null && typeof value === 'object' ? [key, { class_name: 'Zeros', config: {} }] : [key, zeroInitializers(value)],
  );
  return Object.fromEntries(entries);
};

/**
 * `tfl.models.modelFromJSON` that frees what it made when it fails. A layer that fails to build
 * (a custom layer's `build` throwing, say) left the weights of every layer built before it
 * allocated, with no model to dispose them through. tfjs-layers builds all the layers before its
 * first `await`, so the variables registered between the call and its return are exactly this
 * model's: on failure they are disposed, and the error goes on.
 */
const fromTopology = async (modelTopology: tf.io.ModelJSON['modelTopology']): Promise<tfl.LayersModel> => {
  const registered = (): ReadonlyArray<readonly [string, tf.Variable]> => Object.entries(tf.engine().registeredVariables);
  const before = new Set(registered().map(([name]) => name));
  const pending = tfl.models.modelFromJSON({ modelTopology });
  const made = registered().filter(([name]) => !before.has(name)).map(([, v]) => v);
  try {
    return await pending;
  } catch (thrown) {
    tf.dispose([...made]);
    throw thrown;
  }
};

/**
 * A deep copy of a model: same topology, new layer objects. A pretrained start copies the weight
 * values; a random start leaves each layer with what its own initialiser drew, seeded.
 *
 * A pretrained copy is built with zeros and then given the source's values: drawing random weights
 * first, only to overwrite them, took most of the time of copying MobileNetV2 (tfjs draws a
 * truncated normal in JavaScript, ≈ 150 of ≈ 180 ms, one-off profile). The copy's layers then get
 * the source's initialisers back, so it describes (and saves) itself as the source does.
 */
const copyModel = async (source: tfl.LayersModel, start: BuildSpec['start'], seed: number): Promise<tfl.LayersModel> => {
  const topology = source.toJSON(null, false) as tf.io.ModelJSON['modelTopology'];
  if (start === 'random') return fromTopology(seedInitializers(topology, seed) as typeof topology);
  const copy = await fromTopology(zeroInitializers(topology) as typeof topology);
  copy.setWeights(source.getWeights());
  for (const layer of copy.layers) {
    const from = source.getLayer(layer.name) as unknown as Record<string, unknown>;
    const to = layer as unknown as Record<string, unknown>;
    for (const key of Object.keys(to)) if (key.endsWith('Initializer') && key in from) to[key] = from[key];
  }
  return copy;
};

/** The layer a symbolic tensor comes out of. */
const producer = (t: SymbolicTensor): Layer => t.sourceLayer as Layer;

/**
 * The source's classifier, as `classifier: 'source'` keeps it: the Dense layer that makes the
 * model's one output (directly, or through a softmax `Activation` or `Softmax` layer after it),
 * reading the tap, with `spec.classes` units and a softmax or linear activation. Its weights, or
 * `NotSupported` naming what was found.
 */
const sourceClassifier = (source: tfl.LayersModel, spec: BuildSpec): E.Either<TransferError, ReadonlyArray<tf.Tensor>> => {
  const expected = `a source whose one output is a Dense layer of ${spec.classes} units (softmax or linear, optionally followed by a softmax layer) reading the tap '${spec.tap.name}'`;
  if (source.outputs.length !== 1) return E.left(notSupported('backbone', expected, `a model with ${source.outputs.length} outputs`));
  let layer = producer(source.outputs[0]!);
  const activation = (l: Layer): unknown => (l.getConfig() as { activation?: unknown }).activation;
  if (layer.getClassName() === 'Softmax' || (layer.getClassName() === 'Activation' && activation(layer) === 'softmax')) layer = producer(layer.input as SymbolicTensor);
  const reads = layer.inboundNodes[0]?.inboundLayers[0]?.name;
  const units = (layer.getConfig() as { units?: unknown }).units;
  if (layer.getClassName() !== 'Dense' || reads !== spec.tap.name || units !== spec.classes || !['softmax', 'linear'].includes(activation(layer) as string)) {
    return E.left(notSupported('backbone', expected, `its output made by ${layer.getClassName()} '${layer.name}' (activation ${String(activation(layer))}, ${String(units)} units) reading '${String(reads)}'`));
  }
  return E.right(layer.getWeights());
};

/** The head's one Dense layer given the source classifier's kernel and bias (zeros for a classifier without one). */
const setClassifier = (head: Layer, weights: ReadonlyArray<tf.Tensor>): void => {
  if (weights.length === 2) return head.setWeights([...weights]);
  const bias = tf.zeros([weights[0]!.shape[1]!]);
  try {
    head.setWeights([weights[0]!, bias]);
  } finally {
    bias.dispose();
  }
};

/**
 * Builds a transfer model from a source: copies it (or, for a random start, its architecture with
 * fresh seeded weights), keeps the copied layers up to the tap, adds pooling and a head. The source
 * is read, never changed; on failure nothing is left allocated.
 */
export const buildTransferModel = (source: tfl.LayersModel, spec: BuildSpec): TE.TaskEither<TransferError, TfjsTransferModel> => async () => {
  let copy: tfl.LayersModel | undefined;
  const created: Layer[] = [];
  try {
    // The source may have changed since it was wrapped: a NaN weight would otherwise surface as
    // a diverged loss (cpu), or not at all where ReLU swallows it (wasm).
    const poisoned = spec.start === 'pretrained' ? nonFiniteWeight(source.layers) : undefined;
    if (poisoned !== undefined) return E.left(poisoned);
    const keep = spec.classifier === 'source' ? sourceClassifier(source, spec) : undefined;
    if (keep !== undefined && E.isLeft(keep)) return keep;
    copy = await copyModel(source, spec.start, spec.seed);
    const tapLayer = copy.getLayer(spec.tap.name);
    const graph = ancestors(copy, tapLayer);
    const kept = new Set(graph);
    copy.layers.filter((l) => !kept.has(l)).forEach(release);
    const headSpec = keep === undefined ? spec : { ...spec, head: { hidden: [], dropout: spec.head.dropout } };
    const made = withHead({ input: copy.inputs[0]!, graph, tapOutput: tapLayer.output as SymbolicTensor, taken: new Set(copy.layers.map((l) => l.name)), name: `transferkit_${source.name}` }, headSpec, created);
    if (E.isLeft(made)) graph.forEach(release);
    // The source's classifier as the head: its weights, with its softmax left to the whole model.
    if (keep !== undefined && E.isRight(made)) setClassifier(made.right.parts.head[0]!, keep.right);
    return E.map(({ parts, full }: Assembled) => new TfjsTransferModel(parts, full, [...graph, ...created]))(made);
  } catch (thrown) {
    copy?.layers.forEach(release);
    created.forEach(release);
    return E.left(backendFailure('building the transfer model', thrown));
  }
};
