import { either as E, type taskEither as TE } from 'fp-ts';
import { checkBackbone, checkEmbedOptions, embedLayers, type Backbone, type EmbedOptions, type LayerInfo, type Pooling, type TransferModel } from '../core/backbone';
import type { Matrix } from '../core/matrix';
import { guardTask, isRecord } from '../core/boundary';
import { invalidArgument, type TransferError } from '../core/errors';
import { checkLabels } from '../core/labels';
import type { Labels } from '../core/labels';
import type { Tap } from '../core/recipe';
import { blockEnds, resolveTap } from '../core/resolveTap';
import { logme } from './logme';

/** One candidate with its LogME score. */
export interface RankedLayer {
  /** The candidate tap. */
  readonly layer: LayerInfo;
  /** LogME of its pooled activations on the target labels (nats per example; higher transfers better). */
  readonly logme: number;
}

/** Options of {@link rankLayers}. */
export interface RankLayersOptions {
  /** Layers to score. Default: every block end from the first layer to the top. */
  readonly candidates?: ReadonlyArray<Tap>;
  /** Default 'average'. */
  readonly pooling?: Pooling;
  /** Examples per embedding batch, a positive integer. Default 256. */
  readonly batchSize?: number;
  /** Stops between two batches; the result is then `Aborted`. */
  readonly signal?: AbortSignal;
}

/**
 * Orders a backbone's layers by how well their (pooled) activations predict the target labels,
 * by LogME — so an earlier-layer tap can pick its layer by measurement rather than by rule.
 *
 * @returns the candidates, best first; or the first error (an unknown layer, bad labels, …)
 *
 * @example
 * ```ts
 * import { earlierLayerTap, makeRecipe, rankLayers, type Backbone, type TransferModel } from 'transferkit';
 * import { either as E } from 'fp-ts';
 *
 * export const bestTap = async <X, M extends TransferModel<X>>(backbone: Backbone<X, M>, x: X, y: number[]) => {
 *   const ranked = await rankLayers(backbone, { x, y })();
 *   return E.isLeft(ranked) ? ranked : makeRecipe({ ...earlierLayerTap, tap: { kind: 'layer', name: ranked.right[0]!.layer.name } });
 * };
 * ```
 * @function
 */
export const rankLayers = guardTask(
  'rankLayers',
  <X, M extends TransferModel<X>>(backboneIn: Backbone<X, M>, data: { readonly x: X; readonly y: Labels }, options?: RankLayersOptions): TE.TaskEither<TransferError, ReadonlyArray<RankedLayer>> =>
  async () => {
    // Every argument is checked before the first layer is embedded.
    const how = checkEmbedOptions(options);
    if (E.isLeft(how)) return how;
    const b = checkBackbone('backbone', backboneIn);
    if (E.isLeft(b)) return b;
    const backbone = b.right;
    if (!isRecord(data)) return E.left(invalidArgument('data', 'labelled data { x, y }', data));
    const { x, y } = data;
    const labels = checkLabels(y);
    if (E.isLeft(labels)) return labels;
    const given = options?.candidates;
    if (given !== undefined && !(Array.isArray(given) && given.length > 0)) return E.left(invalidArgument('options.candidates', 'a non-empty array of taps (or nothing: every block end)', given));
    const layers: LayerInfo[] = [];
    for (const tap of given ?? blockEnds(backbone.layers, backbone.top).map((l): Tap => ({ kind: 'index', index: l.index }))) {
      const layer = resolveTap(backbone.layers, backbone.top, tap);
      if (E.isLeft(layer)) return layer;
      layers.push(layer.right);
    }
    return scoreLayers(backbone, x, labels.right.ids, layers, how.right);
  },
);

/**
 * The LogME of each layer's pooled activations on `ids`, best first; with `rows`, only those
 * examples (indices into the inputs) are scored, all of them still embedded. The layers are
 * embedded in one pass where the backbone can (`Backbone.embedEach`). Ties keep the layers' order.
 */
export const scoreLayers = async <X, M extends TransferModel<X>>(
  backbone: Backbone<X, M>,
  x: X,
  ids: Int32Array,
  layers: ReadonlyArray<LayerInfo>,
  how: EmbedOptions,
  rows?: Int32Array,
): Promise<E.Either<TransferError, ReadonlyArray<RankedLayer>>> => {
  const features = await embedLayers(backbone, x, layers, how);
  if (E.isLeft(features)) return features;
  const ranked: RankedLayer[] = [];
  for (const [k, layer] of layers.entries()) {
    const all = features.right[k]!;
    const m = rows === undefined ? all : pickRows(all, rows);
    const score = logme(m, rows === undefined ? ids : rows.map((r) => ids[r]!));
    if (E.isLeft(score)) return score;
    ranked.push({ layer, logme: score.right.value });
  }
  // Scores are finite (logme returns an error otherwise).
  return E.right(ranked.sort((a, b) => b.logme - a.logme));
};

/** The rows of a matrix at these indices, in their order. */
const pickRows = (m: Matrix, rows: Int32Array): Matrix => {
  const data = new Float32Array(rows.length * m.cols);
  rows.forEach((r, i) => data.set(m.data.subarray(r * m.cols, (r + 1) * m.cols), i * m.cols));
  return { rows: rows.length, cols: m.cols, data };
};
