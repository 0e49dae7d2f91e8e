import { either as E, type taskEither as TE } from 'fp-ts';
import type { Backbone, Pooling, TransferModel } from '../core/backbone';
import type { TransferError } from '../core/errors';
import type { Matrix } from '../core/matrix';
import type { Tap } from '../core/recipe';
import { resolveTap } from '../core/resolveTap';
import { positiveInteger } from '../core/validate';

/**
 * Embeds a batch at a layer of a backbone: the layer's activations for each input, pooled to one
 * row per example (global average over a map, or flattened). The model runs in inference mode and
 * is not changed; the inputs are not disposed.
 *
 * @param at - which layer, as a tap: `{ kind: 'top' }` (default), a name, an index, an offset from
 * the top or a relative depth
 * @param options - `pooling` (default `'average'`), `batchSize` (default 256)
 * @returns one row per example, or `InvalidArgument` for an unknown layer (listing the valid
 * names) or inputs the model does not take
 */
export const embed =
  <X, M extends TransferModel<X>>(
    backbone: Backbone<X, M>,
    inputs: X,
    at: Tap = { kind: 'top' },
    options: { readonly pooling?: Pooling; readonly batchSize?: number } = {},
  ): TE.TaskEither<TransferError, Matrix> =>
  async () => {
    const layer = resolveTap(backbone.layers, backbone.top, at);
    if (E.isLeft(layer)) return layer;
    const batchSize = positiveInteger('options.batchSize', options.batchSize ?? 256);
    if (E.isLeft(batchSize)) return batchSize;
    return backbone.embed(inputs, layer.right, { pooling: options.pooling ?? 'average', batchSize: batchSize.right })();
  };
