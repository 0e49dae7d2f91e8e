import { either as E, type taskEither as TE } from 'fp-ts';
import type { Backbone, LayerInfo, Pooling, TransferModel } from '../core/backbone';
import type { TransferError } from '../core/errors';
import type { Labels } from '../core/labels';
import type { Tap } from '../core/recipe';
import { blockEnds, resolveTap } from '../core/resolveTap';
import { logme } from './logme';

/** One candidate with its LogME score. */
export interface RankedLayer {
  readonly layer: LayerInfo;
  readonly logme: number;
}

/** Options of {@link rankLayers}. */
export interface RankLayersOptions {
  /** Layers to score. Default: every block end from the first layer to the top. */
  readonly candidates?: ReadonlyArray<Tap>;
  /** Default 'average'. */
  readonly pooling?: Pooling;
  /** Default 256. */
  readonly batchSize?: number;
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
 */
export const rankLayers =
  <X, M extends TransferModel<X>>(backbone: Backbone<X, M>, data: { readonly x: X; readonly y: Labels }, options: RankLayersOptions = {}): TE.TaskEither<TransferError, ReadonlyArray<RankedLayer>> =>
  async () => {
    const layers: LayerInfo[] = [];
    for (const tap of options.candidates ?? blockEnds(backbone.layers, backbone.top).map((l): Tap => ({ kind: 'index', index: l.index }))) {
      const layer = resolveTap(backbone.layers, backbone.top, tap);
      if (E.isLeft(layer)) return layer;
      layers.push(layer.right);
    }
    const ranked: RankedLayer[] = [];
    for (const layer of layers) {
      const features = await backbone.embed(data.x, layer, { pooling: options.pooling ?? 'average', batchSize: options.batchSize ?? 256 })();
      if (E.isLeft(features)) return features;
      const score = logme(features.right, data.y);
      if (E.isLeft(score)) return score;
      ranked.push({ layer, logme: score.right.value });
    }
    return E.right(ranked.sort((a, b) => b.logme - a.logme));
  };
