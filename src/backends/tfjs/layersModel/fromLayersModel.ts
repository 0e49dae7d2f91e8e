import * as tfl from '@tensorflow/tfjs-layers';
import { either as E, type taskEither as TE } from 'fp-ts';
import { checkEmbedOptions, type BuildSpec, type EmbedOptions, type LayerInfo } from '../../../core/backbone';
import { guard, guardTask, optionsAt } from '../../../core/boundary';
import { backendFailure, described, invalidArgument, notSupported, shapeMismatch, type TransferError } from '../../../core/errors';
import type { InputSpecArgs } from '../../../core/inputSpec';
import type { Matrix } from '../../../core/matrix';
import { compilePrefix } from '../compile';
import { embedWith } from '../embedding';
import { declaredInput } from '../images/declaredInput';
import { inboundLayers, layerInfos, type Layer } from '../graph';
import { checkBuildSpec, layerAt, type TfjsBackbone } from '../backbone';
import { checkInputs, nonFiniteWeight, rangeWarning } from '../inputs';
import { inputRows, type InputRows, type TfjsInputs } from '../inputRows';
import { buildTransferModel } from './buildModel';
import type { TfjsTransferModel } from '../transferModel';



/** Options of {@link fromLayersModel}. */
export interface FromLayersModelOptions {
  /**
   * The top feature layer, by name or index. Default: where the backbone's features are pooled
   * (a Flatten or global pooling layer) below a classifier head of one or more Dense layers (with
   * Dropout, activations, reshapes, and a Flatten after the classifier; a 1×1 convolution on a
   * 1×1 map counts as Dense, as in Keras's MobileNets); for a model with no pooling below its head,
   * the layer that feeds its final classifier (skipping Dropout, and the Activation, Softmax,
   * Reshape or Flatten after it); or the last layer of a model that ends in features. Never a
   * layer whose output is probabilities (softmax, sigmoid): where the top cannot be told that way,
   * the result is an `InvalidArgument` at `options.top` that names candidate layers.
   */
  readonly top?: string | number;
  /**
   * The range of input values the model was trained on, e.g. `[0, 1]`, or `[-1, 1]` for Keras's
   * MobileNet preprocessing. Inputs whose values fall outside it (by more than 1 % of its width:
   * 0–255 pixels where `[0, 1]` is declared) train as given, with a warning in the result.
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
}

/** Layers a classifier head is made of, above the backbone's pooled features. */
const HEAD_LAYERS = new Set(['Dense', 'Dropout', 'Activation', 'Softmax', 'ReLU', 'Reshape', 'BatchNormalization']);
/** Layers that turn a backbone's feature map into one vector per example. */
const POOLING = new Set(['Flatten', 'GlobalAveragePooling2D', 'GlobalMaxPooling2D', 'GlobalAveragePooling1D', 'GlobalMaxPooling1D']);
/** Layers after a classifier that only reshape or normalise its output. */
const TAIL = new Set(['Activation', 'Softmax', 'Reshape', 'Flatten', 'Dropout']);
/** Activations whose output is a distribution (or per-class probabilities). */
const PROBABILITY_ACTIVATIONS = new Set(['softmax', 'sigmoid']);

const below = (layer: Layer): Layer | undefined => {
  const inbound = inboundLayers(layer);
  return inbound.length === 1 ? inbound[0] : undefined;
};

/** Whether a layer is a 1×1 convolution on a 1×1 map: a Dense layer in Keras MobileNet's head (`conv_preds`). */
const pointwiseOnVector = (layer: Layer): boolean => {
  if (layer.getClassName() !== 'Conv2D') return false;
  const shape = layer.outputShape as ReadonlyArray<number | null>;
  return shape.length === 4 && shape[1] === 1 && shape[2] === 1;
};

const isClassifier = (layer: Layer): boolean => layer.getClassName() === 'Dense' || pointwiseOnVector(layer);

/** Whether a layer's output is probabilities: a Softmax layer, or a softmax or sigmoid activation. */
const givesProbabilities = (layer: Layer): boolean => {
  if (layer.getClassName() === 'Softmax') return true;
  const activation = (layer.getConfig() as { activation?: unknown }).activation;
  return typeof activation === 'string' && PROBABILITY_ACTIVATIONS.has(activation);
};

/**
 * The source's classifier head, when it sits on pooled backbone features: walking down from the
 * output through what only reshapes or normalises the classifier's output (a Flatten included,
 * as MobileNetV3 has after its 1×1 classifier), then dense layers (or 1×1 convolutions on a 1×1
 * map), dropout, activations and reshapes, the first pooling layer (Flatten, global pooling) below
 * them. So a head with hidden layers (`flatten → dense → dense → dense`, as in a Keras MobileNetV2
 * fine-tuned with its own head) is recognised as a head, and the top is the pooled features:
 * measured on such a model (docs/results/pretrained-presets.json), a new head on them beat one on
 * the old head's last hidden layer by 12 points.
 */
const pooledBelowHead = (model: tfl.LayersModel): Layer | undefined => {
  let layer: Layer | undefined = model.layers[model.layers.length - 1]!;
  let denseSeen = false;
  while (layer !== undefined && (HEAD_LAYERS.has(layer.getClassName()) || isClassifier(layer) || (!denseSeen && TAIL.has(layer.getClassName())))) {
    denseSeen ||= isClassifier(layer);
    layer = below(layer);
  }
  return denseSeen && layer !== undefined && POOLING.has(layer.getClassName()) ? layer : undefined;
};

/** What {@link detectTop} found: the top, or why it cannot tell. */
type Found = { readonly top: Layer } | { readonly unsure: 'all classifier' | 'probabilities' };

/**
 * The layer below the source's classifier: the pooled features below a head, else the layer that
 * feeds the final classifier (past the tail after it and dropout before it), else the last layer
 * of a model that ends in features. Never a layer whose output is probabilities: a model that ends
 * in them with no classifier below is `unsure`, as is one that is all classifier.
 */
const detectTop = (model: tfl.LayersModel): Found => {
  const pooled = pooledBelowHead(model);
  if (pooled !== undefined) return { top: pooled };
  const end = model.layers[model.layers.length - 1]!;
  let last: Layer | undefined = end;
  let probabilities = false;
  while (last !== undefined && TAIL.has(last.getClassName()) && !isClassifier(last)) {
    probabilities ||= givesProbabilities(last);
    last = below(last);
  }
  if (last !== undefined && isClassifier(last)) {
    let next = inboundLayers(last)[0];
    while (next !== undefined && next.getClassName() === 'Dropout') next = inboundLayers(next)[0];
    return next === undefined || next.getClassName() === 'InputLayer' ? { unsure: 'all classifier' } : { top: next };
  }
  if (probabilities || (last !== undefined && givesProbabilities(last))) return { unsure: 'probabilities' };
  return end.getClassName() === 'InputLayer' ? { unsure: 'all classifier' } : { top: end };
};

/** The layers a user might mean as the top: pooling layers, and the layers feeding the last few. */
const topCandidates = (model: tfl.LayersModel): string => {
  const layers = model.layers;
  const near = layers.slice(-4).flatMap((l) => inboundLayers(l));
  const names = [...new Set([...layers.filter((l) => POOLING.has(l.getClassName())), ...near].filter((l) => l.getClassName() !== 'InputLayer' && !givesProbabilities(l)).map((l) => `'${l.name}'`))];
  return names.slice(-6).join(', ');
};

const usable = (model: tfl.LayersModel): boolean => {
  try {
    model.weights.forEach((w) => w.read());
    return true;
  } catch {
    return false;
  }
};

const topIndex = (model: tfl.LayersModel, layers: ReadonlyArray<LayerInfo>, top: string | number | undefined): E.Either<TransferError, number> => {
  if (top === undefined) {
    const found = detectTop(model);
    if ('top' in found) return E.right(model.layers.indexOf(found.top));
    const candidates = topCandidates(model);
    const why = found.unsure === 'all classifier' ? 'a model that is only a classifier' : 'a model ending in probabilities with no classifier transferkit recognises below them';
    return E.left(invalidArgument('options.top', `the top feature layer, named${candidates === '' ? ' (a layer of backbone.layers)' : `: e.g. ${candidates}`}`, described(why)));
  }
  const index = typeof top === 'number' ? top : layers.findIndex((l) => l.name === top);
  return layers[index] !== undefined && layers[index]!.kind !== 'InputLayer'
    ? E.right(index)
    : E.left(invalidArgument('options.top', `a layer name or index: ${layers.map((l) => l.name).join(', ')}`, top));
};

/**
 * Activations at some layers, each pooled to a row per example, in inference mode, in one pass.
 * The layers up to the highest run compiled (BatchNorm folded, activations fused; compile.ts), a
 * batch at a time, and each batch is pooled before the next runs, so memory holds one batch of
 * activations.
 */
const embedAt = async (model: tfl.LayersModel, x: InputRows, at: ReadonlyArray<LayerInfo>, options: EmbedOptions): Promise<E.Either<TransferError, Matrix[]>> => {
  const outputs = at.map((l) => model.getLayer(l.name).output as tfl.SymbolicTensor);
  const deep = outputs.find((o) => o.shape.length > 4);
  if (deep !== undefined && options.pooling === 'average') {
    return E.left(shapeMismatch('at', "an output of rank 2, 3 or 4 for average pooling (or pooling: 'flatten')", `rank ${deep.shape.length}`));
  }
  // The compiled program reads the source's layers and owns only its folded copies of weights.
  const prefix = compilePrefix(model.inputs[0]!, outputs);
  try {
    return await embedWith(prefix, x, at.map((l) => l.name).join(', '), options);
  } finally {
    prefix.dispose();
  }
};

/**
 * What the backbone cannot take, found up front: a layer called more than once (a shared layer),
 * or a model nested as a layer. Both would otherwise fail deep inside tfjs.
 */
const unsupportedStructure = (model: tfl.LayersModel): TransferError | undefined => {
  const nested = model.layers.find((l) => l instanceof tfl.LayersModel);
  if (nested !== undefined) {
    return notSupported('model', 'a model whose layers are plain layers (flattenModel(model) makes one that shares the weights)', `a model nesting the model '${nested.name}' as a layer`);
  }
  const shared = model.layers.find((l) => l.inboundNodes.length > 1);
  if (shared !== undefined) {
    return notSupported('model', 'a model in which each layer is called once', `the layer '${shared.name}', called ${shared.inboundNodes.length} times (a shared layer)`);
  }
  return undefined;
};

/**
 * Wraps a tfjs-layers model (Sequential or functional, with branches and residual adds) as a
 * {@link TfjsBackbone}. The model is never changed: transfer trains a copy, and disposing results never
 * disposes it. The caller still owns the model and disposes it when done.
 *
 * @returns the backbone, or `NotSupported` for a model with several inputs or outputs,
 * `InvalidArgument` for a disposed model or an unknown `top`
 *
 * @example
 * ```ts
 * import '@tensorflow/tfjs-backend-cpu';
 * import * as tfl from '@tensorflow/tfjs-layers';
 * import { either as E } from 'fp-ts';
 * import { fromLayersModel } from 'transferkit/tfjs';
 *
 * const source = tfl.sequential({
 *   layers: [tfl.layers.dense({ inputShape: [4], units: 8, name: 'features' }), tfl.layers.dense({ units: 3, activation: 'softmax' })],
 * });
 * const backbone = fromLayersModel(source);
 * if (E.isRight(backbone)) console.log(backbone.right.layers[backbone.right.top]!.name); // 'features'
 * source.dispose();
 * ```
 * @function
 */
export const fromLayersModel = guard('fromLayersModel', (model: tfl.LayersModel, options?: FromLayersModelOptions): E.Either<TransferError, TfjsBackbone> => {
  const given = optionsAt('options', options);
  if (E.isLeft(given)) return given;
  const { top: topOption, inputRange: range } = given.right;
  if (topOption !== undefined && typeof topOption !== 'string' && typeof topOption !== 'number') {
    return E.left(invalidArgument('options.top', 'a layer name or index', topOption));
  }
  if (range !== undefined && !(Array.isArray(range) && range.length === 2 && range.every(Number.isFinite) && range[0] < range[1])) {
    return E.left(invalidArgument('options.inputRange', 'two finite numbers [low, high], low < high', range));
  }
  if (!(model instanceof tfl.LayersModel)) return E.left(invalidArgument('model', 'a tfjs-layers LayersModel', model));
  if (!usable(model)) return E.left(invalidArgument('model', 'a usable model', described('a disposed model')));
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    return E.left(notSupported('model', 'a model with one input and one output', `${model.inputs.length} inputs and ${model.outputs.length} outputs`));
  }
  const structure = unsupportedStructure(model);
  if (structure !== undefined) return E.left(structure);
  const poisoned = nonFiniteWeight(model.layers);
  if (poisoned !== undefined) return E.left(poisoned);
  const layers = layerInfos(model);
  const top = topIndex(model, layers, topOption);
  if (E.isLeft(top)) return top;
  const input = declaredInput(model.inputs[0]!.shape, given.right.input, range);
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
        chosen.push(layer.right);
      }
      const n = checkInputs(model, x);
      if (E.isLeft(n)) return n;
      return await embedAt(model, inputRows(x), chosen, how.right);
    } catch (thrown) {
      return E.left(backendFailure('embedding', thrown));
    }
  };
  return E.right({
    layers,
    top: top.right,
    capabilities: { fineTune: true, description: 'a tfjs LayersModel' },
    isUsable: () => usable(model),
    ...(expectedRange === undefined ? {} : { inputWarning: (x: TfjsInputs) => rangeWarning(x, expectedRange) }),
    ...(spec === undefined ? {} : { inputSpec: spec }),
    count: guard('backbone.count', (x: TfjsInputs) => checkInputs(model, x)),
    embed: guardTask('backbone.embed', (x: TfjsInputs, at: LayerInfo, options: EmbedOptions): TE.TaskEither<TransferError, Matrix> => async () => {
      const each = await embedEach(x, [at], options);
      return E.map((ms: ReadonlyArray<Matrix>) => ms[0]!)(each);
    }),
    embedEach: guardTask('backbone.embedEach', (x: TfjsInputs, at: ReadonlyArray<LayerInfo>, options: EmbedOptions): TE.TaskEither<TransferError, ReadonlyArray<Matrix>> => () => embedEach(x, at, options)),
    build: guardTask('backbone.build', (spec: BuildSpec): TE.TaskEither<TransferError, TfjsTransferModel> => async () => {
      const checked = checkBuildSpec(layers, top.right, spec);
      return E.isLeft(checked) ? checked : buildTransferModel(model, checked.right)();
    }),
  });
});
