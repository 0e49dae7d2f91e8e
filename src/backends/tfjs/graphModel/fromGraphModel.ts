/**
 * A tfjs-converter GraphModel (TF Hub, `@tensorflow-models/*`, most published tfjs models) as a
 * {@link TfjsBackbone}: every computing node a layer and a tap, embeddings at any of them, and
 * head-only transfer (the feature extractor, the earlier-layer tap) with the graph frozen. The
 * graph is never changed: its weights stay its own, and disposing a result never disposes it.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import { either as E, type taskEither as TE } from 'fp-ts';
import { checkEmbedOptions, type BuildSpec, type Capabilities, type EmbedOptions, type LayerInfo } from '../../../core/backbone';
import { guard, guardTask, isRecord, optionsAt } from '../../../core/boundary';
import { backendFailure, described, invalidArgument, notSupported, shapeMismatch, type TransferError } from '../../../core/errors';
import type { InputSpecArgs } from '../../../core/inputSpec';
import type { Matrix } from '../../../core/matrix';
import { isInputKind } from '../../../core/resolveTap';
import { checkBuildSpec, layerAt, type TfjsBackbone } from '../backbone';
import { embedWith } from '../embedding';
import { declaredInput } from '../images/declaredInput';
import { release, type Layer, type SymbolicTensor } from '../graph';
import { allFinite, checkInputsFor, rangeWarning } from '../inputs';
import { inputRows, type TfjsInputs } from '../inputRows';
import { TfjsTransferModel } from '../transferModel';
import { readGraph, type GraphLayers } from './nodes';
import { GraphPrefix, runTo } from './prefixLayer';
import { trainableSegments, untrainableNode, type GraphSegment } from './segments';
import { detectGraphTop } from './top';
import { freshName, withHead, type Assembled } from '../withHead';

/** Options of {@link fromGraphModel}. */
export interface FromGraphModelOptions {
  /**
   * The top feature node, by name or index in the backbone's `layers`. Default: the node below the
   * graph's classifier (found back from the output past Identity, Reshape, Squeeze, Softmax and
   * Sigmoid, then past a MatMul, its bias, or a 1×1 convolution on a 1×1 map); the output itself
   * for a graph that ends in features. Never a probability output: when the graph ends in
   * probabilities with no classifier below them, the result asks for `top` and names candidates.
   */
  readonly top?: string | number;
  /**
   * The range of input values the model was trained on, e.g. `[0, 1]` or `[-1, 1]`: inputs outside
   * it (by more than 1 % of its width) train as given, with a warning in the result.
   */
  readonly inputRange?: readonly [number, number];
  /**
   * The input as an image, where the model cannot say it: how pixels become inputs (`range`, or
   * `mean` and `std`), the channel order, and a size or channel count where the model's input
   * leaves them open. What the model's input shape fixes is taken from it, and a declared size or
   * channel count that disagrees is a `ShapeMismatch`. Default: with `inputRange` alone, images map
   * onto that range; with neither, the backbone has no input spec, and images cannot be fed to it.
   */
  readonly input?: InputSpecArgs;
  /**
   * The shape of one example (no batch dimension), for a graph whose input leaves its height or
   * width open (`[-1, -1, -1, 3]`); it must agree with every size the graph does fix. Default: the
   * graph's own input shape.
   */
  readonly inputShape?: ReadonlyArray<number>;
}

const DESCRIPTION = 'a tfjs GraphModel';

/** Whether a value looks like a tfjs-converter GraphModel (the class is not imported: the converter stays optional). */
const isGraphModel = (m: unknown): m is GraphModel =>
  isRecord(m) && typeof m['execute'] === 'function' && typeof m['executeAsync'] === 'function' && Array.isArray(m['inputs']) && Array.isArray(m['outputs']) && isRecord(m['weights']);

/** Every weight tensor of the graph. */
const weightTensors = (model: GraphModel): tf.Tensor[] => Object.values(model.weights).flat();

const usable = (model: GraphModel): boolean => {
  try {
    return weightTensors(model).every((t) => !t.isDisposed);
  } catch {
    return false;
  }
};

/** The error for the first weight of the graph that holds NaN or an infinity. */
const nonFiniteGraphWeight = (model: GraphModel): TransferError | undefined => {
  for (const [name, tensors] of Object.entries(model.weights)) {
    if (tensors.some((t) => t.dtype === 'float32' && !allFinite(t))) return invalidArgument('model', 'a model whose weights are all finite', described(`the weight ${name}, which holds NaN or Infinity`));
  }
  return undefined;
};

const checkOptions = (options: unknown): E.Either<TransferError, FromGraphModelOptions> => {
  const given = optionsAt('options', options as FromGraphModelOptions | undefined);
  if (E.isLeft(given)) return given;
  const { top, inputRange: range, inputShape } = given.right;
  if (top !== undefined && typeof top !== 'string' && typeof top !== 'number') return E.left(invalidArgument('options.top', 'a node name or index', top));
  if (range !== undefined && !(Array.isArray(range) && range.length === 2 && range.every(Number.isFinite) && range[0] < range[1])) {
    return E.left(invalidArgument('options.inputRange', 'two finite numbers [low, high], low < high', range));
  }
  if (inputShape !== undefined && !(Array.isArray(inputShape) && inputShape.length >= 1 && inputShape.every((d) => Number.isInteger(d) && d >= 1))) {
    return E.left(invalidArgument('options.inputShape', 'the shape of one example: an array of positive integers', inputShape));
  }
  return E.right(given.right);
};

/** The top node's index: the one named or indexed, or the one found below the classifier. */
const topIndex = (graph: GraphLayers, top: string | number | undefined): E.Either<TransferError, number> => {
  const { nodes, layers } = graph;
  if (top === undefined) return detectGraphTop(nodes, layers);
  const index = typeof top === 'number' ? top : layers.findIndex((l) => l.name === top);
  if (layers[index] !== undefined && !isInputKind(layers[index]!.kind)) return E.right(index);
  const names = layers.filter((l) => !isInputKind(l.kind)).map((l) => l.name);
  const shown = names.length <= 12 ? names.join(', ') : `${names.slice(0, 4).join(', ')}, …, ${names.slice(-8).join(', ')}`;
  return E.left(invalidArgument('options.top', `a node name or index of backbone.layers: ${shown}`, top));
};

/**
 * Whether recipes that train the graph can run: every op up to the top has a gradient in tfjs, and
 * the converter kept the model's artifacts (a trainable copy is loaded from them). Where not, the
 * description names the first op that has none (plan.ts puts it in its error).
 */
const fineTuning = (model: GraphModel, graph: GraphLayers, tap: number): Capabilities => {
  const blocked = untrainableNode(graph, tap);
  if (blocked !== undefined) {
    return { fineTune: false, description: `${DESCRIPTION} whose node '${blocked.name}' (op ${blocked.op}) has no gradient in tfjs, so only head-only recipes (featureExtractor, earlierLayerTap) can train on it` };
  }
  return artifactsOf(model) !== undefined
    ? { fineTune: true, description: DESCRIPTION }
    : { fineTune: false, description: `${DESCRIPTION} loaded without its artifacts (a trainable copy is made from them), so only head-only recipes can train on it` };
};

/** The artifacts tfjs-converter kept of a loaded GraphModel (not in its public type). */
const artifactsOf = (model: GraphModel): tf.io.ModelArtifacts | undefined => {
  const kept = (model as unknown as { artifacts?: unknown }).artifacts;
  return isRecord(kept) ? (kept as tf.io.ModelArtifacts) : undefined;
};

/**
 * A transfer model on the graph: input → the graph to the tap → pooling → a new head. Where every
 * op up to the tap has a gradient in tfjs, the graph is a chain of trainable segments on a copy of
 * it (segments.ts), so that fine-tune recipes run; otherwise it runs as one frozen layer, and only
 * head-only recipes can train.
 */
const buildOnGraph = (model: GraphModel, graph: GraphLayers, spec: BuildSpec): E.Either<TransferError, TfjsTransferModel> => {
  if (spec.start === 'random') return E.left(notSupported('spec.start', "'pretrained' (a GraphModel's architecture cannot be rebuilt with fresh weights)", "'random'"));
  const created: Layer[] = [];
  let segments: GraphSegment[] = [];
  try {
    const input = tfl.input({ shape: graph.input.shape.slice(1) as number[], dtype: 'float32' });
    const taken = new Set(graph.layers.map((l) => l.name));
    // The graph as a trainable copy where it can train up to the tap (a failure to make the copy is
    // the error: a fine-tune must not silently train the head alone); else as it is, frozen.
    const artifacts = fineTuning(model, graph, spec.tap.index).fineTune ? artifactsOf(model) : undefined;
    const trainable = artifacts === undefined ? undefined : trainableSegments(artifacts, graph, spec.tap.index, (base) => freshName(base, taken));
    if (trainable !== undefined && E.isLeft(trainable)) return trainable;
    segments = trainable?.right ?? [];
    const body: Layer[] = segments.length > 0 ? segments : [new GraphPrefix(model, spec.tap.name, graph.input.dtype, spec.tap.outputShape, freshName('transferkit_graph', taken))];
    created.push(...body);
    const tapOutput = body.reduce((x, layer) => layer.apply(x) as SymbolicTensor, input);
    segments.forEach((s) => s.adoptWeights());
    const made = withHead({ input, graph: [input.sourceLayer as Layer, ...body], tapOutput, taken, name: 'transferkit_graph_model' }, spec, created);
    if (E.isLeft(made)) (created.forEach(release), segments.forEach((s) => s.abandon()));
    return E.map(({ parts, full }: Assembled) => new TfjsTransferModel(parts, full, created, DESCRIPTION))(made);
  } catch (thrown) {
    created.forEach(release);
    segments.forEach((s) => s.abandon());
    return E.left(backendFailure('building the transfer model', thrown));
  }
};

/**
 * Wraps a tfjs-converter GraphModel with one input and one output as a {@link TfjsBackbone}. Its
 * computing nodes (every op but the weight constants) are the backbone's `layers`, in topological
 * order, with their ops as `kind` and output shapes read by running one example of zeros. Any of
 * them is a tap: `embed`, the metrics (`rankLayers`, `rankBackbones`, `measureSimilarity`) and the
 * head-only recipes (`featureExtractor`, `earlierLayerTap`) run on it. Where every op up to the top
 * has a gradient in tfjs (convolutions, products, biases, activations, adds, pooling: the ops of a
 * converted MobileNet or ResNet), the partial and full fine-tunes run too: they train a copy of the
 * graph whose weights are variables, cut into segments where the graph narrows to one tensor, and
 * the graph itself is never changed. Otherwise `capabilities.fineTune` is false and its
 * description names the first op without a gradient. From scratch is `NotSupported` (a graph has no
 * architecture to rebuild). The caller still owns the model and disposes it when done.
 *
 * A model trained head-only on it saves its head alone (`saveHead`, a few kB; `attachHead` puts it
 * back on the same graph): `save` of the whole model is `NotSupported`, the graph not being layers.
 *
 * @returns the backbone; `NotSupported` for a model with several inputs or outputs, with control
 * flow, or with an input of open size and no `inputShape`; `InvalidArgument` for a value that is no
 * GraphModel, a disposed one, a weight that is not finite, or an unknown or undetectable `top`
 *
 * @example
 * ```ts
 * import type * as tf from '@tensorflow/tfjs-core';
 * import { loadGraphModel } from '@tensorflow/tfjs-converter';
 * import { either as E } from 'fp-ts';
 * import { featureExtractor, transfer } from 'transferkit';
 * import { fromGraphModel } from 'transferkit/tfjs/graph';
 *
 * // A head for your classes on a converted model's features (examples/graph-model.ts runs this
 * // on a real MobileNetV2 graph): `modelUrl` is where the app serves its model.json.
 * export const headOnGraph = async (modelUrl: string, x: tf.Tensor4D, y: number[]) => {
 *   const graph = await loadGraphModel(modelUrl);
 *   const backbone = fromGraphModel(graph, { inputRange: [0, 1] });
 *   return E.isLeft(backbone) ? backbone : transfer(backbone.right, featureExtractor, { x, y })();
 * };
 * ```
 * @function
 */
export const fromGraphModel = guard('fromGraphModel', (model: GraphModel, options?: FromGraphModelOptions): E.Either<TransferError, TfjsBackbone> => {
  const given = checkOptions(options);
  if (E.isLeft(given)) return given;
  const { top: topOption, inputRange: range, inputShape } = given.right;
  if (!isGraphModel(model)) return E.left(invalidArgument('model', 'a tfjs-converter GraphModel (from loadGraphModel)', model));
  if (!usable(model)) return E.left(invalidArgument('model', 'a usable model', described('a disposed model')));
  const poisoned = nonFiniteGraphWeight(model);
  if (poisoned !== undefined) return E.left(poisoned);
  const read = readGraph(model, inputShape);
  if (E.isLeft(read)) return read;
  const graph = read.right;
  const { layers } = graph;
  const top = topIndex(graph, topOption);
  if (E.isLeft(top)) return top;
  const input = declaredInput(graph.input.shape, given.right.input, range);
  if (E.isLeft(input)) return input;
  const { spec, range: expectedRange } = input.right;
  const embedEach = async (x: TfjsInputs, at: ReadonlyArray<LayerInfo>, options: EmbedOptions): Promise<E.Either<TransferError, ReadonlyArray<Matrix>>> => {
    try {
      if (!usable(model)) return E.left(invalidArgument('model', 'a usable model', described('a disposed model')));
      const how = checkEmbedOptions(options);
      if (E.isLeft(how)) return how;
      if (!Array.isArray(at) || at.length === 0) return E.left(invalidArgument('at', "a non-empty array of the backbone's layers", at));
      const chosen: LayerInfo[] = [];
      for (const l of at) {
        const layer = layerAt(layers, l);
        if (E.isLeft(layer)) return layer;
        if (isInputKind(layer.right.kind)) return E.left(invalidArgument('at', 'a node after the input', layer.right.name));
        if (layer.right.outputShape.length > 4 && how.right.pooling === 'average') {
          return E.left(shapeMismatch('at', "an output of rank 2, 3 or 4 for average pooling (or pooling: 'flatten')", `rank ${layer.right.outputShape.length}`));
        }
        chosen.push(layer.right);
      }
      const n = checkInputsFor(graph.input.shape, x);
      if (E.isLeft(n)) return n;
      const names = chosen.map((l) => l.name);
      const prefix = { run: runTo(model, names, graph.input.dtype), folded: [], dispose: () => undefined };
      return await embedWith(prefix, inputRows(x), names.join(', '), how.right);
    } catch (thrown) {
      return E.left(backendFailure('embedding', thrown));
    }
  };
  return E.right({
    layers,
    top: top.right,
    capabilities: fineTuning(model, graph, top.right),
    isUsable: () => usable(model),
    ...(expectedRange === undefined ? {} : { inputWarning: (x: TfjsInputs) => rangeWarning(x, expectedRange) }),
    ...(spec === undefined ? {} : { inputSpec: spec }),
    count: guard('backbone.count', (x: TfjsInputs) => checkInputsFor(graph.input.shape, x)),
    embed: guardTask('backbone.embed', (x: TfjsInputs, at: LayerInfo, options: EmbedOptions): TE.TaskEither<TransferError, Matrix> => async () => {
      const each = await embedEach(x, [at], options);
      return E.map((ms: ReadonlyArray<Matrix>) => ms[0]!)(each);
    }),
    embedEach: guardTask('backbone.embedEach', (x: TfjsInputs, at: ReadonlyArray<LayerInfo>, options: EmbedOptions): TE.TaskEither<TransferError, ReadonlyArray<Matrix>> => () => embedEach(x, at, options)),
    build: guardTask('backbone.build', (spec: BuildSpec): TE.TaskEither<TransferError, TfjsTransferModel> => async () => {
      if (!usable(model)) return E.left(invalidArgument('model', 'a usable model', described('a disposed model')));
      const checked = checkBuildSpec(layers, top.right, spec);
      if (E.isRight(checked) && checked.right.classifier === 'source') {
        return E.left(notSupported('spec.classifier', "'new' on a GraphModel (its nodes are not layers whose classifier can be copied); the source's own classifier needs a LayersModel", "'source'"));
      }
      return E.isLeft(checked) ? checked : buildOnGraph(model, graph, checked.right);
    }),
  });
});
