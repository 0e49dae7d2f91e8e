import { either as E, type taskEither as TE } from 'fp-ts';
import { checkBackbone, checkEmbedOptions, type Backbone, type Pooling, type TransferModel } from '../core/backbone';
import { guardTask } from '../core/boundary';
import type { TransferError } from '../core/errors';
import type { Matrix } from '../core/matrix';
import type { Tap } from '../core/recipe';
import { resolveTap } from '../core/resolveTap';


/** Options of {@link embed}. */
export interface EmbedAtOptions {
  /** How a map becomes a row: `'average'` (global average) or `'flatten'`. Default `'average'`. */
  readonly pooling?: Pooling;
  /** Examples per batch, a positive integer. Default 256. */
  readonly batchSize?: number;
  /** Stops between two batches; the result is then `Aborted`. */
  readonly signal?: AbortSignal;
}

/**
 * Embeds a batch at a layer of a backbone: the layer's activations for each input, pooled to one
 * row per example (global average over a map, or flattened). The model runs in inference mode and
 * is not changed; the inputs are not disposed.
 *
 * @param at - which layer, as a tap: `{ kind: 'top' }` (default), a name, an index, an offset from
 * the top or a relative depth
 * @param options - `pooling` (default `'average'`), `batchSize` (default 256), `signal`
 * @returns one row per example, or `InvalidArgument` for an unknown layer (listing the valid
 * names), bad options or inputs the model does not take, `Aborted` when the signal fired
 * @function
 */
export const embed = guardTask(
  'embed',
  <X, M extends TransferModel<X>>(backbone: Backbone<X, M>, inputs: X, at: Tap = { kind: 'top' }, options: EmbedAtOptions = {}): TE.TaskEither<TransferError, Matrix> =>
    async () => {
      const b = checkBackbone('backbone', backbone);
      if (E.isLeft(b)) return b;
      const how = checkEmbedOptions(options);
      if (E.isLeft(how)) return how;
      const layer = resolveTap(b.right.layers, b.right.top, at);
      if (E.isLeft(layer)) return layer;
      return b.right.embed(inputs, layer.right, how.right)();
    },
);
