import { either as E } from 'fp-ts';
import type { LayerInfo } from './backbone';
import { invalidArgument, type TransferError } from './errors';
import { checkTap, type Tap } from './recipe';

/**
 * Layer kinds that finish a block: a tap lands after them rather than before. A residual Add
 * finishes the branch that feeds it alone, so a tap in the branch (MobileNetV2's
 * `block_8_project_BN`) moves on to the block's output (`block_8_add`).
 */
const BLOCK_TAIL = new Set([
  'BatchNormalization', 'Activation', 'ReLU', 'LeakyReLU', 'ELU', 'Softmax', 'PReLU', 'ThresholdedReLU', 'Add',
  // The same in a converted graph's ops (where most activations are fused into the convolution).
  'FusedBatchNorm', 'FusedBatchNormV3', 'Relu', 'Relu6', 'LeakyRelu', 'Elu', 'AddV2',
]);
/** Layer kinds that only pass values on (padding, dropout, identity): never a tap of their own; one lands on their input. */
const PASS_THROUGH = new Set(['ZeroPadding2D', 'ZeroPadding1D', 'Dropout', 'Pad', 'MirrorPad', 'Identity']);

/** Whether a layer kind is a model's input (a LayersModel's InputLayer, a graph's Placeholder): never a tap. */
export const isInputKind = (kind: string | undefined): boolean => kind === 'InputLayer' || kind === 'Placeholder';

const namesOf = (layers: ReadonlyArray<LayerInfo>, first: number, last: number): string => {
  const names = layers.slice(first, last + 1).map((l) => l.name);
  return names.length <= 12 ? names.join(', ') : `${names.slice(0, 6).join(', ')}, …, ${names.slice(-6).join(', ')}`;
};

/** Moves forward while the layer's only consumer is a BatchNorm or activation, not past `last`. */
const endOfBlock = (layers: ReadonlyArray<LayerInfo>, index: number, last: number): number => {
  let at = index;
  for (;;) {
    const consumers = layers.filter((l) => l.inputs.includes(at));
    const next = consumers[0];
    if (consumers.length !== 1 || next === undefined || next.index > last || !BLOCK_TAIL.has(next.kind)) return at;
    at = next.index;
  }
};

/**
 * Resolves a {@link Tap} to one of a backbone's layers, at or below its top feature layer.
 * The input layer (index 0 when the list has one) is never a tap.
 *
 * @param layers - the backbone's layers in topological order
 * @param top - index of the top feature layer
 * @returns the layer, or `InvalidArgument` that lists the valid names or the valid range
 */
export const resolveTap = (layers: ReadonlyArray<LayerInfo>, top: number, tap: Tap): E.Either<TransferError, LayerInfo> => {
  const checked = checkTap('tap', tap);
  if (E.isLeft(checked)) return checked;
  const first = isInputKind(layers[0]?.kind) ? 1 : 0;
  const within = (index: number, path: string, received: unknown): E.Either<TransferError, LayerInfo> => {
    const layer = layers[index];
    return layer !== undefined && index >= first && index <= top
      ? E.right(layer)
      : E.left(invalidArgument(path, `a layer from ${first} to ${top} (the top feature layer)`, received));
  };
  switch (tap.kind) {
    case 'top':
      return within(top, 'tap', 'top');
    case 'index':
      return within(tap.index, 'tap.index', tap.index);
    case 'from-top':
      return within(top - tap.offset, 'tap.offset', tap.offset);
    case 'relative-depth': {
      let target = Math.max(first, Math.min(top, Math.round(first + tap.depth * (top - first))));
      // Padding or dropout passes on its input: land on that input, or (right after the model's
      // input) on the layer it feeds.
      while (PASS_THROUGH.has(layers[target]?.kind ?? '')) {
        const from = layers[target]!.inputs[0] ?? -1;
        const next = from >= first ? from : layers.find((l) => l.inputs.includes(target))?.index;
        if (next === undefined || next > top) break;
        target = next;
      }
      return within(endOfBlock(layers, target, top), 'tap.depth', tap.depth);
    }
    case 'ranked':
      return E.left(invalidArgument('tap', "a tap that names one layer (a 'ranked' tap is chosen from the data when a recipe runs: transfer)", 'ranked'));
    case 'layer': {
      const layer = layers.find((l) => l.name === tap.name);
      if (layer === undefined || layer.index < first || layer.index > top) {
        return E.left(invalidArgument('tap.name', `the name of a layer up to the top feature layer: ${namesOf(layers, first, top)}`, tap.name));
      }
      return E.right(layer);
    }
  }
};

/**
 * The layers that end a block, from the first tappable layer to the top: each layer whose output is
 * not passed on only to a BatchNorm, an activation or a residual Add, and is not padding or
 * dropout. The natural candidates for an earlier tap: block outputs, the activations after them,
 * pooled features.
 */
export const blockEnds = (layers: ReadonlyArray<LayerInfo>, top: number): ReadonlyArray<LayerInfo> => {
  const first = isInputKind(layers[0]?.kind) ? 1 : 0;
  return layers.slice(first, top + 1).filter((l) => !PASS_THROUGH.has(l.kind) && endOfBlock(layers, l.index, top) === l.index);
};

/**
 * The candidates of a `ranked` tap: the block ends ({@link blockEnds}) from relative depth `from`
 * up to, not including, the top feature layer. When none lies there (a backbone of few layers),
 * the highest block end below the top; when there is none at all, the top itself.
 */
export const rankedCandidates = (layers: ReadonlyArray<LayerInfo>, top: number, from: number): ReadonlyArray<LayerInfo> => {
  const first = isInputKind(layers[0]?.kind) ? 1 : 0;
  const below = blockEnds(layers, top).filter((l) => l.index < top);
  const within = below.filter((l) => l.index >= first + from * (top - first));
  if (within.length > 0) return within;
  const highest = below[below.length - 1] ?? layers[top];
  return highest === undefined ? [] : [highest];
};
