import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { either as E, type taskEither as TE } from 'fp-ts';
import type { Backbone, LayerInfo, Pooling } from '../../core/backbone';
import { backendFailure, described, invalidArgument, notSupported, shapeMismatch, type TransferError } from '../../core/errors';
import { matrix, type Matrix } from '../../core/matrix';
import { compilePrefix, forEachBatch } from './compile';
import { inboundLayers, layerInfos, type Layer } from './graph';
import { checkInputs } from './inputs';
import { buildTransferModel, TfjsTransferModel } from './transferModel';

/** A tfjs-layers model seen as a {@link Backbone}: inputs are tensors, trained models are {@link TfjsTransferModel}s. */
export type TfjsBackbone = Backbone<tf.Tensor, TfjsTransferModel>;

/** Options of {@link fromLayersModel}. */
export interface FromLayersModelOptions {
  /**
   * The top feature layer, by name or index. Default: the layer that feeds the model's final Dense
   * classifier (skipping Dropout, and a trailing Activation/Softmax), or the last layer when the
   * model does not end in a Dense layer.
   */
  readonly top?: string | number;
}

const CLASSIFIER_TAIL = new Set(['Activation', 'Softmax']);

/** The layer below the source's classifier; `undefined` when there is none (the model is all classifier). */
const detectTop = (model: tfl.LayersModel): Layer | undefined => {
  let last = model.layers[model.layers.length - 1]!;
  if (CLASSIFIER_TAIL.has(last.getClassName()) && inboundLayers(last)[0]?.getClassName() === 'Dense') last = inboundLayers(last)[0]!;
  if (last.getClassName() !== 'Dense') return last;
  let below = inboundLayers(last)[0];
  while (below !== undefined && below.getClassName() === 'Dropout') below = inboundLayers(below)[0];
  return below === undefined || below.getClassName() === 'InputLayer' ? undefined : below;
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
    const index = found === undefined ? -1 : model.layers.indexOf(found);
    return index >= 0
      ? E.right(index)
      : E.left(invalidArgument('options.top', 'a model with feature layers below its classifier, or an explicit top layer', described('a model that is only a classifier')));
  }
  const index = typeof top === 'number' ? top : layers.findIndex((l) => l.name === top);
  return layers[index] !== undefined && layers[index]!.kind !== 'InputLayer'
    ? E.right(index)
    : E.left(invalidArgument('options.top', `a layer name or index: ${layers.map((l) => l.name).join(', ')}`, top));
};

/**
 * Activations at one layer, pooled to a row per example, in inference mode. The layers up to the
 * tap run compiled (BatchNorm folded, activations fused; compile.ts), a batch at a time, and each
 * batch is pooled before the next runs, so memory holds one batch of activations.
 */
const embedAt = (model: tfl.LayersModel, x: tf.Tensor, at: LayerInfo, pooling: Pooling, batchSize: number): E.Either<TransferError, Matrix> => {
  const output = model.getLayer(at.name).output as tfl.SymbolicTensor;
  const rank = output.shape.length;
  if (rank > 4 && pooling === 'average') {
    return E.left(shapeMismatch('at', "an output of rank 2, 3 or 4 for average pooling (or pooling: 'flatten')", `rank ${rank}`));
  }
  // The compiled program reads the source's layers and owns only its folded copies of weights.
  const prefix = compilePrefix(model.inputs[0]!, [output]);
  try {
    const n = x.shape[0]!;
    let cols = 0;
    let data = new Float32Array(0);
    forEachBatch(prefix, x, batchSize, ([a], start, size) => {
      const rows = tf.tidy(() => (a!.rank === 2 ? a!.clone() : pooling === 'flatten' ? tf.reshape(a!, [size, -1]) : tf.mean(a!, a!.rank === 4 ? [1, 2] : [1])));
      try {
        if (start === 0) {
          cols = rows.shape[1]!;
          data = new Float32Array(n * cols);
        }
        data.set(rows.dataSync() as Float32Array, start * cols);
      } finally {
        rows.dispose();
      }
    });
    return matrix(n, cols, data);
  } finally {
    prefix.dispose();
  }
};

/**
 * Wraps a tfjs-layers model (Sequential or functional, with branches and residual adds) as a
 * {@link Backbone}. The model is never changed: transfer trains a copy, and disposing results never
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
 */
export const fromLayersModel = (model: tfl.LayersModel, options: FromLayersModelOptions = {}): E.Either<TransferError, TfjsBackbone> => {
  if (!(model instanceof tfl.LayersModel)) return E.left(invalidArgument('model', 'a tfjs-layers LayersModel', model));
  if (!usable(model)) return E.left(invalidArgument('model', 'a usable model', described('a disposed model')));
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    return E.left(notSupported('model', 'a model with one input and one output', `${model.inputs.length} inputs and ${model.outputs.length} outputs`));
  }
  const layers = layerInfos(model);
  const top = topIndex(model, layers, options.top);
  if (E.isLeft(top)) return top;
  return E.right({
    layers,
    top: top.right,
    capabilities: { fineTune: true, description: 'a tfjs LayersModel' },
    isUsable: () => usable(model),
    count: (x) => checkInputs(model, x),
    embed: (x, at, { pooling, batchSize }): TE.TaskEither<TransferError, Matrix> => async () => {
      if (!usable(model)) return E.left(invalidArgument('model', 'a usable model', described('a disposed model')));
      const n = checkInputs(model, x);
      if (E.isLeft(n)) return n;
      try {
        return embedAt(model, x, at, pooling, batchSize);
      } catch (thrown) {
        return E.left(backendFailure(`embedding at ${at.name}`, thrown));
      }
    },
    build: (spec) => buildTransferModel(model, spec),
  });
};
